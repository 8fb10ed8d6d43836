using Dapper;
using Geo.Events.Contracts;
using Npgsql;

namespace Geo.Events.Secondary.Files;

/// <summary>The <c>files</c> table: each file's newest sequence and state; an older event never overwrites a newer one.</summary>
public sealed class FileRegistry(NpgsqlDataSource dataSource)
{
    public sealed record Entry(long Sequence, string State, string? Sha256);

    public async Task<Entry?> FindAsync(FileKind kind, string path, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.QuerySingleOrDefaultAsync<Entry>(new CommandDefinition(
            "SELECT sequence AS Sequence, state AS State, sha256 AS Sha256 FROM files WHERE kind = @kind AND path = @path",
            new { kind = (short)kind, path }, cancellationToken: cancellationToken));
    }

    /// <summary>Records the outcome of the event with <paramref name="sequence"/>, unless a newer one is recorded already.</summary>
    /// <param name="state">One of <see cref="FileState"/>.</param>
    public async Task<bool> RecordAsync(FileKind kind, string path, long sequence, string state, long? size, string? sha256, string? error, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO files (kind, path, sequence, state, size, sha256, last_error) VALUES (@kind, @path, @sequence, @state, @size, @sha256, @error)
            ON CONFLICT (kind, path) DO UPDATE
               SET sequence = EXCLUDED.sequence, state = EXCLUDED.state, size = EXCLUDED.size, sha256 = EXCLUDED.sha256,
                   last_error = EXCLUDED.last_error, updated_at = now()
             WHERE files.sequence < EXCLUDED.sequence OR (files.sequence = EXCLUDED.sequence AND files.state = @failed)
            """,
            new { kind = (short)kind, path, sequence, state, size, sha256, error, failed = FileState.Failed }, cancellationToken: cancellationToken)) > 0;
    }

    public async Task<IReadOnlyDictionary<string, long>> SummaryAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return (await connection.QueryAsync<(string State, long Count)>(new CommandDefinition(
            "SELECT state, count(*) FROM files GROUP BY state", cancellationToken: cancellationToken))).ToDictionary(r => r.State, r => r.Count);
    }
}
