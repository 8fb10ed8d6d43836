using Dapper;
using Geo.Events.Contracts;
using Geo.Events.Core.Paths;
using Geo.Events.Core.Repositories;
using Geo.Events.Secondary.Repositories;
using Npgsql;

namespace Geo.Events.Secondary.Serving;

/// <summary>
/// Which repository a clone URL names, and whether this site may serve it from its mirror now or must send the
/// client to the primary. A mirror is served only when all of these hold: the registry knows the repository at that
/// path (not destroyed), its last sync succeeded, the mirror is on disk, its last verification did not end in a
/// mismatch, and no event for it has waited longer than Secondary:ServeMaxLag.
/// </summary>
/// <remarks>
/// "An event waiting for it" is what this site's registry knows: an event for the repository that reached this
/// secondary (<c>pending_since</c>, set when the first event not covered by a successful sync arrived and cleared by
/// the sync that covers it). An event still queued in RabbitMQ, not yet received, is not known here; the site's
/// whole backlog is geo-primary's figure (geo_secondary_oldest_unapplied_age_seconds), which alerts on it.
/// </remarks>
public sealed class ServableMirrors(NpgsqlDataSource dataSource, MirrorLayout layout)
{
    /// <summary>
    /// A repository named by a URL path, as GitLab names them: <c>group/project.git</c>, <c>group/project.wiki.git</c>,
    /// <c>group/project.design.git</c>, <c>group.wiki.git</c> (a group's wiki: <see cref="Kind"/> says Wiki until the
    /// registry tells which, as GitLab's routes never give a group and a project the same path), <c>snippets/&lt;id&gt;.git</c>
    /// and <c>group/project/snippets/&lt;id&gt;.git</c>.
    /// </summary>
    public readonly record struct Named(string Path, RepositoryKind Kind)
    {
        /// <summary>How the primary names it, e.g. <c>group/project.wiki.git</c> (GitLab's RepoPath parses the same forms).</summary>
        public string GitName => Path + RepositoryLayout.RemoteSuffix(Kind);

        /// <summary>The registry's kinds a URL of this shape may name.</summary>
        public short[] Kinds => Kind == RepositoryKind.Wiki ? [(short)RepositoryKind.Wiki, (short)RepositoryKind.GroupWiki] : [(short)Kind];
    }

    /// <summary>Either the mirror to serve (<see cref="DataPath"/>) or why not (<see cref="Reason"/>).</summary>
    public sealed record Verdict(long? ProjectId, string? DataPath, string? Reason)
    {
        public bool Local => DataPath is not null;
    }

    private sealed record Row(long ProjectId, short Kind, string State, bool NeverSynced, double? PendingSeconds, string? VerificationState, string? Held);

    /// <summary>
    /// Parses a clone URL's path (a leading '/' and a missing <c>.git</c> are accepted, as git servers do); null when it
    /// names no repository GitLab could have. The path is never joined to a folder: the mirror is found by id.
    /// </summary>
    public static Named? Parse(string urlPath)
    {
        var path = urlPath.TrimStart('/');
        if (path.EndsWith(".git", StringComparison.Ordinal))
        {
            path = path[..^".git".Length];
        }

        // Snippets: snippets/<id> (personal) or <project path>/snippets/<id> (a project's); "snippets" is a reserved
        // top-level route on GitLab, and a project's routes own <project>/snippets.
        var slash = path.LastIndexOf('/');
        if (slash > 0 && path[(slash + 1)..] is { Length: > 0 and < 19 } id && id.All(char.IsAsciiDigit) && id[0] != '0'
            && path[..slash] is var owner && (owner == "snippets" || (owner.EndsWith("/snippets", StringComparison.Ordinal)
                && ProjectPath.Problem(owner[..^"/snippets".Length]) is null)))
        {
            return new Named(path, RepositoryKind.Snippet);
        }

        foreach (var kind in new[] { RepositoryKind.Wiki, RepositoryKind.Design })
        {
            var suffix = RepositoryLayout.RemoteSuffix(kind)[..^".git".Length];
            if (path.EndsWith(suffix, StringComparison.Ordinal))
            {
                var container = path[..^suffix.Length];
                // A wiki's owner is a project or a group (a group may have a single segment).
                var problem = kind == RepositoryKind.Wiki ? ProjectPath.NamespaceProblem(container) : ProjectPath.Problem(container);
                return problem is null ? new Named(container, kind) : null;
            }
        }

        return ProjectPath.Problem(path) is null ? new Named(path, RepositoryKind.Project) : null;
    }

    public async Task<Verdict> DecideAsync(Named repository, TimeSpan maxLag, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var row = await connection.QueryFirstOrDefaultAsync<Row>(new CommandDefinition(
            """
            SELECT p.project_id AS ProjectId, p.kind AS Kind, p.state AS State, p.last_synced_at IS NULL AS NeverSynced,
                   extract(epoch FROM now() - p.pending_since)::float8 AS PendingSeconds, p.verification_state AS VerificationState,
                   CASE WHEN p.kind <> ALL(@projectKinds) THEN NULL
                        WHEN EXISTS (SELECT 1 FROM held_destroys h WHERE h.project_id = p.project_id) THEN 'destroy-held'
                        WHEN EXISTS (SELECT 1 FROM discarded_destroys d WHERE d.project_id = p.project_id) THEN 'destroy-discarded'
                        WHEN EXISTS (SELECT 1 FROM restored_mirrors r WHERE r.project_id = p.project_id) THEN 'restored'
                   END AS Held
              FROM projects p
             WHERE p.path_with_namespace = @path AND p.kind = ANY(@kinds) AND p.state <> @destroyed
             ORDER BY p.path_sequence DESC
             LIMIT 1
            """,
            new
            {
                path = repository.Path,
                kinds = repository.Kinds,
                projectKinds = RepositoryLayout.ProjectKinds.Select(k => (short)k).ToArray(),
                destroyed = ProjectState.Destroyed,
            }, cancellationToken: cancellationToken));
        if (row is null)
        {
            return new Verdict(null, null, "this site does not mirror it");
        }

        var reason = WhyNotServed(row, maxLag);
        if (reason is not null)
        {
            return new Verdict(row.ProjectId, null, reason);
        }

        var dataPath = layout.DataPath(row.ProjectId, (RepositoryKind)row.Kind);
        return Directory.Exists(dataPath) ? new Verdict(row.ProjectId, dataPath, null) : new Verdict(row.ProjectId, null, "its mirror is not on disk");
    }

    /// <summary>The mirror of a repository the registry knows, for the requests that follow an info/refs served here.</summary>
    public async Task<Verdict> FindAsync(Named repository, CancellationToken cancellationToken) =>
        await DecideAsync(repository, TimeSpan.MaxValue, cancellationToken);

    private static string? WhyNotServed(Row row, TimeSpan maxLag) => row switch
    {
        { State: ProjectState.Failed } => "its last sync failed",
        { State: ProjectState.Absent } => "the primary had no such repository at the last sync",
        { NeverSynced: true } => "it is not mirrored yet",
        { VerificationState: VerificationState.Mismatch } => "its last verification found it different from the primary",
        { PendingSeconds: { } pending } when maxLag != TimeSpan.MaxValue && pending > maxLag.TotalSeconds =>
            $"an event for it has waited {pending:0}s (Secondary:ServeMaxLag is {maxLag.TotalSeconds:0}s)",
        // The safety net (ARCHITECTURE rule 7): the primary destroyed the project, this site keeps its mirror only to
        // undo a mistake. Clients go to the primary, which says what it has; a restored mirror (its registry row stays a
        // tombstone) is never found above, so it is sent there too. Only an admin reads these mirrors, on disk.
        { Held: "destroy-held" } => "the safety net holds its destroy (geo-admin guard release|discard)",
        { Held: "destroy-discarded" } => "the primary destroyed it; this site keeps it after 'geo-admin guard discard'",
        { Held: "restored" } => "it is a mirror restored from the trash",
        _ => null,
    };
}
