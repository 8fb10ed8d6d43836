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
    /// <summary>A repository named by a URL path: <c>group/project.git</c> or <c>group/project.wiki.git</c>.</summary>
    public readonly record struct Named(string Path, RepositoryKind Kind)
    {
        /// <summary>How the primary names it, e.g. <c>group/project.wiki.git</c>.</summary>
        public string GitName => Path + RepositoryLayout.RemoteSuffix(Kind);
    }

    /// <summary>Either the mirror to serve (<see cref="DataPath"/>) or why not (<see cref="Reason"/>).</summary>
    public sealed record Verdict(long? ProjectId, string? DataPath, string? Reason)
    {
        public bool Local => DataPath is not null;
    }

    private sealed record Row(long ProjectId, string State, bool NeverSynced, double? PendingSeconds, string? VerificationState);

    /// <summary>
    /// Parses <c>group/project.git</c> (or <c>.wiki.git</c>; a leading '/' and a missing <c>.git</c> are accepted, as git
    /// servers do); null when it is no valid project path. The path is never joined to a folder: the mirror is found by id.
    /// </summary>
    public static Named? Parse(string urlPath)
    {
        var path = urlPath.TrimStart('/');
        if (path.EndsWith(".git", StringComparison.Ordinal))
        {
            path = path[..^".git".Length];
        }

        var kind = RepositoryKind.Project;
        if (path.EndsWith(".wiki", StringComparison.Ordinal))
        {
            path = path[..^".wiki".Length];
            kind = RepositoryKind.Wiki;
        }

        return ProjectPath.Problem(path) is null ? new Named(path, kind) : null;
    }

    public async Task<Verdict> DecideAsync(Named repository, TimeSpan maxLag, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var row = await connection.QueryFirstOrDefaultAsync<Row>(new CommandDefinition(
            """
            SELECT project_id AS ProjectId, state AS State, last_synced_at IS NULL AS NeverSynced,
                   extract(epoch FROM now() - pending_since)::float8 AS PendingSeconds, verification_state AS VerificationState
              FROM projects
             WHERE path_with_namespace = @path AND kind = @kind AND state <> @destroyed
             ORDER BY path_sequence DESC
             LIMIT 1
            """,
            new { path = repository.Path, kind = (short)repository.Kind, destroyed = ProjectState.Destroyed }, cancellationToken: cancellationToken));
        if (row is null)
        {
            return new Verdict(null, null, "this site does not mirror it");
        }

        var reason = WhyNotServed(row, maxLag);
        if (reason is not null)
        {
            return new Verdict(row.ProjectId, null, reason);
        }

        var dataPath = layout.DataPath(row.ProjectId, repository.Kind);
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
        // Hook for the safety net (ARCHITECTURE rule 7): a mirror held by it must answer a reason here too.
        _ => null,
    };
}
