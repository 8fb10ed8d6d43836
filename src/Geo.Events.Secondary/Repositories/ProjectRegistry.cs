using Dapper;
using Geo.Events.Contracts;
using Geo.Events.Core.Repositories;
using Npgsql;

namespace Geo.Events.Secondary.Repositories;

/// <summary>
/// The <c>projects</c> table: what this secondary knows about each mirror, one row per owner id and kind (a
/// project's repository, wiki and design repository under the project's id; a snippet under its id; a group's wiki
/// under the group's). Renames, destruction and forgetting apply to every kind of an owner
/// (<see cref="RepositoryLayout.Siblings"/>): never to another owner's row that happens to share the number.
/// </summary>
public sealed class ProjectRegistry(NpgsqlDataSource dataSource)
{
    public sealed record Entry(
        long ProjectId, string PathWithNamespace, string State, long MaxSeenSequence, long LastSyncedSequence, TimeSpan? SinceLastSync,
        string? LinkedPath, short Kind, bool PathTaken)
    {
        public RepositoryKind RepositoryKind => (RepositoryKind)Kind;

        public bool Destroyed => State == ProjectState.Destroyed;
    }

    /// <summary>
    /// PathTaken: another live project of the same kind was recorded at this path by a newer event (this one's path
    /// is stale: it was renamed, or destroyed, on the primary, and another project took the path since).
    /// </summary>
    private const string EntryColumns =
        $"""
        project_id AS ProjectId, path_with_namespace AS PathWithNamespace, state AS State,
        max_seen_sequence AS MaxSeenSequence, last_synced_sequence AS LastSyncedSequence,
        now() - last_synced_at AS SinceLastSync, linked_path AS LinkedPath, kind AS Kind,
        EXISTS (SELECT 1 FROM projects AS other
                 WHERE other.kind = projects.kind AND other.path_with_namespace = projects.path_with_namespace
                   AND other.project_id <> projects.project_id AND other.path_sequence > projects.path_sequence
                   AND other.state <> '{ProjectState.Destroyed}') AS PathTaken
        """;

    /// <summary>
    /// Records that an event for the project arrived; a sync that starts after this covers it. Returns the time
    /// since the repository's last fetch started (null if never), which the coalesce window needs, in the same
    /// round trip: both ends of it read from the database's clock (see <see cref="MarkSyncedAsync"/>).
    /// </summary>
    /// <param name="primaryChecksum">
    /// The primary's refs checksum the event names (the change detector's), kept unless a newer event's is already
    /// known: what <see cref="DifferingAsync"/> compares the mirror with.
    /// </param>
    public async Task<TimeSpan?> NoteSeenAsync(long projectId, RepositoryKind kind, string path, long sequence, CancellationToken cancellationToken, string? primaryChecksum = null)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<TimeSpan?>(new CommandDefinition(
            """
            INSERT INTO projects (project_id, kind, path_with_namespace, max_seen_sequence, pending_since, path_sequence, primary_checksum, primary_checksum_sequence, state)
            SELECT @projectId, @kind, @path, @sequence, now(), @sequence, @primaryChecksum, CASE WHEN @primaryChecksum::text IS NULL THEN 0 ELSE @sequence END,
                   -- a project destroyed here stays destroyed, whichever of its repositories the event is about
                   CASE WHEN EXISTS (SELECT 1 FROM projects WHERE project_id = @projectId AND kind = ANY(@siblings) AND state = @destroyed)
                        THEN @destroyed ELSE @pending END
            ON CONFLICT (project_id, kind) DO UPDATE
               SET max_seen_sequence   = GREATEST(projects.max_seen_sequence, EXCLUDED.max_seen_sequence),
                   pending_since       = CASE WHEN projects.pending_since IS NULL AND projects.state <> @destroyed
                                               AND EXCLUDED.max_seen_sequence > projects.last_synced_sequence
                                              THEN now() ELSE projects.pending_since END,
                   path_with_namespace = CASE WHEN EXCLUDED.path_sequence > projects.path_sequence
                                              THEN EXCLUDED.path_with_namespace ELSE projects.path_with_namespace END,
                   path_sequence       = GREATEST(projects.path_sequence, EXCLUDED.path_sequence),
                   primary_checksum    = CASE WHEN @primaryChecksum::text IS NOT NULL AND @sequence > projects.primary_checksum_sequence
                                              THEN @primaryChecksum ELSE projects.primary_checksum END,
                   primary_checksum_sequence = CASE WHEN @primaryChecksum::text IS NOT NULL
                                              THEN GREATEST(projects.primary_checksum_sequence, @sequence) ELSE projects.primary_checksum_sequence END,
                   updated_at          = now()
            RETURNING now() - last_synced_at
            """,
            new { projectId, kind = (short)kind, siblings = Kinds(RepositoryLayout.Siblings(kind)), path, sequence, primaryChecksum, destroyed = ProjectState.Destroyed, pending = ProjectState.Pending },
            cancellationToken: cancellationToken));
    }

    private const string EntryQuery = $"SELECT {EntryColumns} FROM projects WHERE project_id = @projectId AND kind = @kind";

    public async Task<Entry> GetAsync(long projectId, RepositoryKind kind, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.QuerySingleAsync<Entry>(new CommandDefinition(EntryQuery, new { projectId, kind = (short)kind }, cancellationToken: cancellationToken));
    }

    public async Task<Entry?> FindAsync(long projectId, RepositoryKind kind, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.QuerySingleOrDefaultAsync<Entry>(new CommandDefinition(
            $"SELECT {EntryColumns} FROM projects WHERE project_id = @projectId AND kind = @kind",
            new { projectId, kind = (short)kind }, cancellationToken: cancellationToken));
    }

    /// <summary>The project repository's last error, while it is failed; null otherwise.</summary>
    public async Task<string?> LastErrorAsync(long projectId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.QuerySingleOrDefaultAsync<string?>(new CommandDefinition(
            "SELECT last_error FROM projects WHERE project_id = @projectId AND kind = @kind",
            new { projectId, kind = (short)RepositoryKind.Project }, cancellationToken: cancellationToken));
    }

    /// <summary>Projects (not destroyed) whose path lies under <paramref name="prefix"/>, a group's full path.</summary>
    public async Task<IReadOnlyList<(long ProjectId, string Path)>> UnderNamespaceAsync(string prefix, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return (await connection.QueryAsync<(long, string)>(new CommandDefinition(
            "SELECT project_id, path_with_namespace FROM projects WHERE kind = 0 AND state <> @destroyed AND starts_with(path_with_namespace, @prefix || '/')",
            new { prefix, destroyed = ProjectState.Destroyed }, cancellationToken: cancellationToken))).AsList();
    }

    /// <summary>Group wikis (not destroyed) of the group at <paramref name="prefix"/> and of every group below it.</summary>
    public async Task<IReadOnlyList<(long GroupId, string Path)>> GroupWikisUnderAsync(string prefix, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return (await connection.QueryAsync<(long, string)>(new CommandDefinition(
            """
            SELECT project_id, path_with_namespace FROM projects
             WHERE kind = @groupWiki AND state <> @destroyed AND (path_with_namespace = @prefix OR starts_with(path_with_namespace, @prefix || '/'))
            """,
            new { prefix, groupWiki = (short)RepositoryKind.GroupWiki, destroyed = ProjectState.Destroyed }, cancellationToken: cancellationToken))).AsList();
    }

    /// <summary>Every repository this secondary holds for the owner: <paramref name="kinds"/>, a project's by default.</summary>
    public async Task<IReadOnlyList<Entry>> AllKindsAsync(long projectId, CancellationToken cancellationToken, IReadOnlyList<RepositoryKind>? kinds = null)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return (await connection.QueryAsync<Entry>(new CommandDefinition(
            $"SELECT {EntryColumns} FROM projects WHERE project_id = @projectId AND kind = ANY(@kinds) ORDER BY kind",
            new { projectId, kinds = Kinds(kinds ?? RepositoryLayout.ProjectKinds) }, cancellationToken: cancellationToken))).AsList();
    }

    private static short[] Kinds(IReadOnlyList<RepositoryKind> kinds) => kinds.Select(k => (short)k).ToArray();

    /// <summary>
    /// Records a rename or transfer unless a newer event already set the path, or the project is destroyed.
    /// Returns every kind's entry as it is afterwards (none when the project was never seen here).
    /// </summary>
    public async Task<IReadOnlyList<Entry>> RenameAsync(long projectId, string newPath, long sequence, CancellationToken cancellationToken, IReadOnlyList<RepositoryKind>? kinds = null)
    {
        kinds ??= RepositoryLayout.ProjectKinds;
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            """
            UPDATE projects
               SET path_with_namespace = @newPath, path_sequence = @sequence, updated_at = now()
             WHERE project_id = @projectId AND kind = ANY(@kinds) AND path_sequence < @sequence AND state <> @destroyed
            """,
            new { projectId, kinds = Kinds(kinds), newPath, sequence, destroyed = ProjectState.Destroyed }, cancellationToken: cancellationToken));
        return await AllKindsAsync(projectId, cancellationToken, kinds);
    }

    /// <summary>Turns the project into a tombstone: no event older or newer brings its mirror back (GitLab never reuses ids).</summary>
    /// <param name="kinds">The owner's kinds, its main one first (the tombstone row): a project's by default.</param>
    public async Task DestroyAsync(long projectId, string path, long sequence, CancellationToken cancellationToken, IReadOnlyList<RepositoryKind>? kinds = null)
    {
        kinds ??= RepositoryLayout.ProjectKinds;
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO projects (project_id, kind, path_with_namespace, state, max_seen_sequence, path_sequence, destroyed_sequence)
            VALUES (@projectId, @kind, @path, @destroyed, @sequence, @sequence, @sequence)
            ON CONFLICT (project_id, kind) DO UPDATE
               SET state = @destroyed, pending_since = NULL, linked_path = NULL, last_error = NULL,
                   max_seen_sequence = GREATEST(projects.max_seen_sequence, EXCLUDED.max_seen_sequence),
                   destroyed_sequence = GREATEST(projects.destroyed_sequence, EXCLUDED.destroyed_sequence),
                   updated_at = now()
            """,
            new { projectId, kind = (short)kinds[0], path, sequence, destroyed = ProjectState.Destroyed }, cancellationToken: cancellationToken));
        await connection.ExecuteAsync(new CommandDefinition(
            """
            UPDATE projects SET state = @destroyed, pending_since = NULL, linked_path = NULL, last_error = NULL,
                                destroyed_sequence = @sequence, updated_at = now()
             WHERE project_id = @projectId AND kind = ANY(@others)
            """,
            new { projectId, sequence, others = Kinds(kinds.Skip(1).ToList()), destroyed = ProjectState.Destroyed }, cancellationToken: cancellationToken));
    }

    public async Task SetLinkedPathAsync(long projectId, RepositoryKind kind, string? linkedPath, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE projects SET linked_path = @linkedPath, updated_at = now() WHERE project_id = @projectId AND kind = @kind",
            new { projectId, kind = (short)kind, linkedPath }, cancellationToken: cancellationToken));
    }

    /// <summary>
    /// Records a successful sync; <paramref name="absent"/>: the primary has no such repository (a project without a
    /// wiki). <paramref name="linkedPath"/>, when given, is the link the sync just made, recorded in the same update.
    /// </summary>
    /// <param name="sinceFetchStarted">
    /// How long ago the fetch started, by this process's monotonic clock: the mirror shows the primary as it was
    /// then, so <c>last_synced_at</c> is that moment (and the coalesce window runs from the previous fetch's start,
    /// not its end). It is written as the database's <c>now()</c> less this, never as this process's wall clock,
    /// because <see cref="NoteSeenAsync"/> measures the window against the database's <c>now()</c>.
    /// </param>
    /// <param name="mirrorChecksum">
    /// The mirror's refs checksum after the fetch. It is also the primary's as of <paramref name="coveredSequence"/>,
    /// unless an event of that sequence or newer named the primary's (the change detector read it): then that one
    /// stays, and a fetch that did not reach it leaves the mirror counted as differing.
    /// </param>
    /// <param name="lease">
    /// The repository's lock, held by the caller: the update runs on its connection and lets go of it in the same round trip.
    /// </param>
    public async Task MarkSyncedAsync(long projectId, RepositoryKind kind, long coveredSequence, TimeSpan sinceFetchStarted, CancellationToken cancellationToken, bool absent = false, string? linkedPath = null,
        string? mirrorChecksum = null, Locking.AdvisoryLock.Lease? lease = null)
    {
        const string sql =
            """
            UPDATE projects
               SET state = CASE WHEN state = @destroyed THEN state WHEN @absent THEN @absentState ELSE @synced END, last_synced_sequence = GREATEST(last_synced_sequence, @coveredSequence),
                   pending_since = CASE WHEN max_seen_sequence <= GREATEST(last_synced_sequence, @coveredSequence) THEN NULL ELSE pending_since END,
                   linked_path = COALESCE(@linkedPath, linked_path),
                   mirror_checksum = @mirrorChecksum,
                   primary_checksum = CASE WHEN @coveredSequence > primary_checksum_sequence THEN @mirrorChecksum ELSE primary_checksum END,
                   primary_checksum_sequence = GREATEST(primary_checksum_sequence, @coveredSequence),
                   last_synced_at = now() - @sinceFetchStarted, sync_count = sync_count + 1, last_error = NULL, retry_count = 0, updated_at = now()
             WHERE project_id = @projectId AND kind = @kind
            """;
        var parameters = new Dictionary<string, object?>
        {
            ["projectId"] = projectId,
            ["kind"] = (short)kind,
            ["coveredSequence"] = coveredSequence,
            ["absent"] = absent,
            ["sinceFetchStarted"] = sinceFetchStarted,
            ["linkedPath"] = linkedPath,
            ["mirrorChecksum"] = mirrorChecksum,
            ["destroyed"] = ProjectState.Destroyed,
            ["absentState"] = ProjectState.Absent,
            ["synced"] = ProjectState.Synced,
        };
        if (lease is not null)
        {
            await lease.ReleaseAfterAsync(sql.Replace("@linkedPath", "@linkedPath::text", StringComparison.Ordinal).Replace("@mirrorChecksum", "@mirrorChecksum::text", StringComparison.Ordinal), parameters);
            return;
        }

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(sql, parameters, cancellationToken: cancellationToken));
    }

    /// <summary>Projects per state, and the age in seconds of the oldest event still waiting for a sync.</summary>
    public async Task<(IReadOnlyDictionary<string, long> States, double OldestPendingSeconds)> SummaryAsync(CancellationToken cancellationToken, RepositoryKind? kind = null)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var states = (await connection.QueryAsync<(string State, long Count)>(new CommandDefinition(
            "SELECT state, count(*) FROM projects WHERE @kind::smallint IS NULL OR kind = @kind GROUP BY state",
            new { kind = (short?)kind }, cancellationToken: cancellationToken))).ToDictionary(r => r.State, r => r.Count);
        var oldest = await connection.ExecuteScalarAsync<double?>(new CommandDefinition(
            "SELECT extract(epoch FROM now() - min(pending_since))::float8 FROM projects WHERE pending_since IS NOT NULL", cancellationToken: cancellationToken));
        return (states, oldest ?? 0);
    }

    /// <summary>Records a verification's result; a project never seen here gets no row from it.</summary>
    /// <param name="state">One of <see cref="VerificationState"/>.</param>
    /// <param name="checksum">The mirror's refs checksum.</param>
    /// <param name="primaryChecksum">The primary's, from its inventory as of event <paramref name="sequence"/>.</param>
    public async Task MarkVerifiedAsync(long projectId, string state, string? checksum, CancellationToken cancellationToken, RepositoryKind kind = RepositoryKind.Project,
        string? primaryChecksum = null, long sequence = 0)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            """
            UPDATE projects
               SET verified_at = now(), verification_state = @state, verified_checksum = @checksum, mirror_checksum = @checksum,
                   primary_checksum = CASE WHEN @primaryChecksum::text IS NOT NULL AND @sequence >= primary_checksum_sequence THEN @primaryChecksum ELSE primary_checksum END,
                   primary_checksum_sequence = CASE WHEN @primaryChecksum::text IS NOT NULL THEN GREATEST(primary_checksum_sequence, @sequence) ELSE primary_checksum_sequence END
             WHERE project_id = @projectId AND kind = @kind
            """,
            new { projectId, kind = (short)kind, state, checksum, primaryChecksum, sequence }, cancellationToken: cancellationToken));
    }

    /// <summary>
    /// Per kind, the mirrors whose refs differ from the primary's as this secondary last learned them (the change
    /// detector's scan, a verification, or the fetch that brought the mirror level): stale until a sync catches up.
    /// </summary>
    public async Task<IReadOnlyDictionary<RepositoryKind, long>> DifferingAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return (await connection.QueryAsync<(short Kind, long Count)>(new CommandDefinition(
            """
            SELECT kind, count(*) FROM projects
             WHERE state NOT IN (@destroyed, @absent) AND primary_checksum IS NOT NULL AND primary_checksum IS DISTINCT FROM mirror_checksum
             GROUP BY kind
            """,
            new { destroyed = ProjectState.Destroyed, absent = ProjectState.Absent }, cancellationToken: cancellationToken))).ToDictionary(r => (RepositoryKind)r.Kind, r => r.Count);
    }

    /// <summary>Forgets a project that left this secondary's namespaces (selective sync): no tombstone, it may come back.</summary>
    public async Task ForgetAsync(long projectId, CancellationToken cancellationToken, IReadOnlyList<RepositoryKind>? kinds = null)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            "DELETE FROM projects WHERE project_id = @projectId AND kind = ANY(@kinds) AND state <> @destroyed",
            new { projectId, kinds = Kinds(kinds ?? RepositoryLayout.ProjectKinds), destroyed = ProjectState.Destroyed }, cancellationToken: cancellationToken));
    }

    /// <summary>The newest event sequence any successful sync has covered.</summary>
    public async Task<long> LastSyncedSequenceAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            "SELECT coalesce(max(last_synced_sequence), 0) FROM projects", cancellationToken: cancellationToken));
    }

    public async Task MarkFailedAsync(long projectId, RepositoryKind kind, string error, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            """
            UPDATE projects
               SET state = @failed, last_error = @error, retry_count = retry_count + 1, updated_at = now()
             WHERE project_id = @projectId AND kind = @kind AND state <> @destroyed
            """,
            new { projectId, kind = (short)kind, error, failed = ProjectState.Failed, destroyed = ProjectState.Destroyed }, cancellationToken: cancellationToken));
    }
}
