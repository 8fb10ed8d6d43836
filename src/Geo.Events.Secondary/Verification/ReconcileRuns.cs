using Dapper;
using Geo.Events.Contracts.Api;
using Npgsql;

namespace Geo.Events.Secondary.Verification;

/// <summary>The <c>reconcile_runs</c> table: backfill, verify and resync runs, their cursor and their counts.</summary>
public sealed class ReconcileRuns(NpgsqlDataSource dataSource)
{
    public sealed record Run(
        long Id, long? RequestId, string Kind, long? ProjectId, string State, long Cursor, int Total, int Done, int Matched, int Repaired, int Failed,
        DateTime StartedAt, DateTime? FinishedAt, string? Error);

    private const string Columns =
        """
        id AS Id, request_id AS RequestId, kind AS Kind, project_id AS ProjectId, state AS State, cursor AS Cursor, total AS Total,
        done AS Done, matched AS Matched, repaired AS Repaired, failed AS Failed, started_at AS StartedAt, finished_at AS FinishedAt, error AS Error
        """;

    /// <summary>Creates a run; a request already turned into a run is not run twice. Returns null in that case.</summary>
    public async Task<Run?> CreateAsync(string kind, long? requestId, long? projectId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.QuerySingleOrDefaultAsync<Run>(new CommandDefinition(
            $"""
            INSERT INTO reconcile_runs (kind, request_id, project_id) VALUES (@kind, @requestId, @projectId)
            ON CONFLICT (request_id) DO NOTHING
            RETURNING {Columns}
            """,
            new { kind, requestId, projectId }, cancellationToken: cancellationToken));
    }

    /// <summary>The run that answers <paramref name="requestId"/>, if there is one.</summary>
    public async Task<Run?> ByRequestAsync(long requestId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.QuerySingleOrDefaultAsync<Run>(new CommandDefinition(
            $"SELECT {Columns} FROM reconcile_runs WHERE request_id = @requestId", new { requestId }, cancellationToken: cancellationToken));
    }

    public async Task<IReadOnlyList<Run>> UnfinishedAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return (await connection.QueryAsync<Run>(new CommandDefinition(
            $"SELECT {Columns} FROM reconcile_runs WHERE state = @running ORDER BY id", new { running = ReconcileRunState.Running }, cancellationToken: cancellationToken))).AsList();
    }

    public async Task<IReadOnlyList<Run>> RecentAsync(int count, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return (await connection.QueryAsync<Run>(new CommandDefinition(
            $"SELECT {Columns} FROM reconcile_runs ORDER BY id DESC LIMIT @count", new { count }, cancellationToken: cancellationToken))).AsList();
    }

    public async Task<bool> AnyAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<bool>(new CommandDefinition("SELECT EXISTS (SELECT 1 FROM reconcile_runs)", cancellationToken: cancellationToken));
    }

    /// <summary>When the last full comparison (backfill or verify) finished or, if one is running, started.</summary>
    public async Task<DateTime?> LastFinishedAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<DateTime?>(new CommandDefinition(
            "SELECT max(coalesce(finished_at, started_at)) FROM reconcile_runs WHERE kind IN (@backfill, @verify)",
            new { backfill = ReconcileKind.Backfill, verify = ReconcileKind.Verify }, cancellationToken: cancellationToken));
    }

    /// <summary>Records a finished page: its counts and the cursor after it, in one statement, so a crash repeats at most one page.</summary>
    public async Task AdvanceAsync(long id, long cursor, int total, int done, int matched, int repaired, int failed, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            """
            UPDATE reconcile_runs
               SET cursor = @cursor, total = @total, done = done + @done, matched = matched + @matched, repaired = repaired + @repaired, failed = failed + @failed
             WHERE id = @id
            """,
            new { id, cursor, total, done, matched, repaired, failed }, cancellationToken: cancellationToken));
    }

    public async Task FinishAsync(long id, string? error, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE reconcile_runs SET state = @finished, finished_at = now(), error = @error WHERE id = @id",
            new { id, error, finished = ReconcileRunState.Finished }, cancellationToken: cancellationToken));
    }
}
