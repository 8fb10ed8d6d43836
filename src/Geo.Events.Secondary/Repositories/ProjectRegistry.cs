using Dapper;
using Npgsql;

namespace Geo.Events.Secondary.Repositories;

/// <summary>The <c>projects</c> table: what this secondary knows about each mirror.</summary>
public sealed class ProjectRegistry(NpgsqlDataSource dataSource)
{
    public sealed record Entry(long ProjectId, string PathWithNamespace, string State, long MaxSeenSequence, long LastSyncedSequence, double? SecondsSinceLastSync);

    /// <summary>Records that an event for the project arrived; a sync that starts after this covers it.</summary>
    public async Task NoteSeenAsync(long projectId, string path, long sequence, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO projects (project_id, path_with_namespace, max_seen_sequence, pending_since)
            VALUES (@projectId, @path, @sequence, now())
            ON CONFLICT (project_id) DO UPDATE
               SET max_seen_sequence   = GREATEST(projects.max_seen_sequence, EXCLUDED.max_seen_sequence),
                   pending_since       = CASE WHEN projects.pending_since IS NULL AND EXCLUDED.max_seen_sequence > projects.last_synced_sequence
                                              THEN now() ELSE projects.pending_since END,
                   path_with_namespace = CASE WHEN EXCLUDED.max_seen_sequence >= projects.max_seen_sequence
                                              THEN EXCLUDED.path_with_namespace ELSE projects.path_with_namespace END,
                   updated_at          = now()
            """,
            new { projectId, path, sequence }, cancellationToken: cancellationToken));
    }

    public async Task<Entry> GetAsync(long projectId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.QuerySingleAsync<Entry>(new CommandDefinition(
            """
            SELECT project_id AS ProjectId, path_with_namespace AS PathWithNamespace, state AS State,
                   max_seen_sequence AS MaxSeenSequence, last_synced_sequence AS LastSyncedSequence,
                   extract(epoch FROM now() - last_synced_at)::float8 AS SecondsSinceLastSync
              FROM projects WHERE project_id = @projectId
            """,
            new { projectId }, cancellationToken: cancellationToken));
    }

    public async Task MarkSyncedAsync(long projectId, long coveredSequence, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            """
            UPDATE projects
               SET state = 'synced', last_synced_sequence = GREATEST(last_synced_sequence, @coveredSequence),
                   pending_since = CASE WHEN max_seen_sequence <= GREATEST(last_synced_sequence, @coveredSequence) THEN NULL ELSE pending_since END,
                   last_synced_at = now(), sync_count = sync_count + 1, last_error = NULL, retry_count = 0, updated_at = now()
             WHERE project_id = @projectId
            """,
            new { projectId, coveredSequence }, cancellationToken: cancellationToken));
    }

    /// <summary>Projects per state, and the age in seconds of the oldest event still waiting for a sync.</summary>
    public async Task<(IReadOnlyDictionary<string, long> States, double OldestPendingSeconds)> SummaryAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var states = (await connection.QueryAsync<(string State, long Count)>(new CommandDefinition(
            "SELECT state, count(*) FROM projects GROUP BY state", cancellationToken: cancellationToken))).ToDictionary(r => r.State, r => r.Count);
        var oldest = await connection.ExecuteScalarAsync<double?>(new CommandDefinition(
            "SELECT extract(epoch FROM now() - min(pending_since))::float8 FROM projects WHERE pending_since IS NOT NULL", cancellationToken: cancellationToken));
        return (states, oldest ?? 0);
    }

    public async Task MarkFailedAsync(long projectId, string error, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            """
            UPDATE projects
               SET state = 'failed', last_error = @error, retry_count = retry_count + 1, updated_at = now()
             WHERE project_id = @projectId
            """,
            new { projectId, error }, cancellationToken: cancellationToken));
    }
}
