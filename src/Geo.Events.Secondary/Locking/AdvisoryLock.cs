using Dapper;
using Npgsql;

namespace Geo.Events.Secondary.Locking;

/// <summary>
/// One writer per thing across every instance of this secondary: a PostgreSQL session advisory lock on
/// (space, key), held on its own connection for as long as the work runs. PostgreSQL releases it by itself if
/// the process dies, because the session ends. Each kind of thing locked has a space of its own, so their keys
/// never collide.
/// </summary>
public sealed class AdvisoryLock(NpgsqlDataSource dataSource)
{
    /// <summary>Repositories (<see cref="Repositories.RepositoryLock"/>): a project's repository and wiki here, later kinds at this + 0x10 × kind.</summary>
    public const int RepositorySpace = 0x4745_4F00; // "GEO\0"

    /// <summary>Files (<see cref="Files.FileLock"/>), keyed by PostgreSQL's hash of their kind and path.</summary>
    public const int FileSpace = 0x4745_4F01;

    /// <summary>Waits up to <paramref name="timeout"/> for the lock (<paramref name="space"/>, <paramref name="key"/>).</summary>
    public Task<Lease> AcquireAsync(int space, int key, TimeSpan timeout, CancellationToken cancellationToken) =>
        LockAsync(space, timeout, "SELECT @key FROM (SELECT pg_advisory_lock(@space, @key)) AS locked", new { space, key }, cancellationToken);

    /// <summary>
    /// Waits up to <paramref name="timeout"/> for the lock (<paramref name="space"/>, <c>hashtext(<paramref name="name"/>)</c>):
    /// PostgreSQL computes the key in the same statement that takes the lock.
    /// </summary>
    public Task<Lease> AcquireAsync(int space, string name, TimeSpan timeout, CancellationToken cancellationToken) =>
        LockAsync(space, timeout,
            "SELECT k.key FROM (SELECT hashtext(@name) AS key) AS k CROSS JOIN LATERAL (SELECT pg_advisory_lock(@space, k.key)) AS locked",
            new { space, name }, cancellationToken);

    /// <summary>
    /// Runs <paramref name="takeLock"/>, which takes the lock and returns its key, on a connection of its own that the
    /// lease keeps. Advisory lock waits obey lock_timeout, set in the same round trip: a wedged holder turns into an
    /// error, not a stuck consumer.
    /// </summary>
    private async Task<Lease> LockAsync(int space, TimeSpan timeout, string takeLock, object parameters, CancellationToken cancellationToken)
    {
        var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        try
        {
            var key = await connection.ExecuteScalarAsync<int>(new CommandDefinition(
                $"SET lock_timeout = {(long)timeout.TotalMilliseconds}; {takeLock}",
                parameters,
                commandTimeout: CommandTimeout(timeout),
                cancellationToken: cancellationToken));
            return new Lease(connection, space, key);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    private static int CommandTimeout(TimeSpan lockTimeout) => (int)lockTimeout.TotalSeconds + 5;

    /// <summary>A held lock; disposing it lets go.</summary>
    public sealed class Lease(NpgsqlConnection connection, int space, int key) : IAsyncDisposable
    {
        private bool _released;

        /// <summary>
        /// Runs <paramref name="sql"/> and lets go of the lock in the same round trip, the statement committed before the
        /// lock is let go (an error barrier between the two: each runs in its own implicit transaction), so whoever takes
        /// the lock next reads what the statement wrote.
        /// </summary>
        public async Task ReleaseAfterAsync(string sql, IReadOnlyDictionary<string, object?> parameters)
        {
            await using var batch = new NpgsqlBatch(connection) { EnableErrorBarriers = true };
            var statement = new NpgsqlBatchCommand(sql);
            foreach (var (name, value) in parameters)
            {
                statement.Parameters.AddWithValue(name, value ?? DBNull.Value);
            }

            var unlock = new NpgsqlBatchCommand("SELECT pg_advisory_unlock($1, $2)");
            unlock.Parameters.Add(new NpgsqlParameter<int> { TypedValue = space });
            unlock.Parameters.Add(new NpgsqlParameter<int> { TypedValue = key });
            batch.BatchCommands.Add(statement);
            batch.BatchCommands.Add(unlock);
            batch.BatchCommands.Add(new NpgsqlBatchCommand("RESET lock_timeout"));
            await batch.ExecuteNonQueryAsync();
            _released = true; // otherwise disposing unlocks (again, if the unlock past the barrier ran: that only warns)
        }

        public async ValueTask DisposeAsync()
        {
            try
            {
                if (!_released)
                {
                    // Unlock explicitly: a pooled connection's session reset is deferred until its next use.
                    await connection.ExecuteAsync("SELECT pg_advisory_unlock(@space, @key); RESET lock_timeout", new { space, key });
                }
            }
            finally
            {
                await connection.DisposeAsync();
            }
        }
    }
}
