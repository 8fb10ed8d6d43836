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
    /// <summary>Repositories (<see cref="Repositories.RepositoryLock"/>), keyed by their <see cref="Repositories.RepositoryId.Number"/>.</summary>
    public const int RepositorySpace = 0x4745_4F00; // "GEO\0"

    /// <summary>Files (<see cref="Files.FileLock"/>), keyed by PostgreSQL's hash of their kind and path.</summary>
    public const int FileSpace = 0x4745_4F01;

    /// <summary>Waits up to <paramref name="timeout"/> for the lock (<paramref name="space"/>, <paramref name="key"/>).</summary>
    public async Task<IAsyncDisposable> AcquireAsync(int space, int key, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        try
        {
            // Advisory lock waits obey lock_timeout: a wedged holder turns into an error, not a stuck consumer.
            // Both statements go in one round trip.
            await connection.ExecuteAsync(new CommandDefinition(
                $"SET lock_timeout = {(long)timeout.TotalMilliseconds}; SELECT pg_advisory_lock(@space, @key)",
                new { space, key },
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

    /// <summary>
    /// Waits up to <paramref name="timeout"/> for the lock (<paramref name="space"/>, <c>hashtext(<paramref name="name"/>)</c>):
    /// PostgreSQL computes the key in the same statement that takes the lock.
    /// </summary>
    public async Task<IAsyncDisposable> AcquireAsync(int space, string name, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        try
        {
            var key = await connection.ExecuteScalarAsync<int>(new CommandDefinition(
                $"SET lock_timeout = {(long)timeout.TotalMilliseconds}; " +
                "SELECT k.key FROM (SELECT hashtext(@name) AS key) AS k CROSS JOIN LATERAL (SELECT pg_advisory_lock(@space, k.key)) AS locked",
                new { space, name },
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

    private sealed class Lease(NpgsqlConnection connection, int space, int key) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            try
            {
                // Unlock explicitly: a pooled connection's session reset is deferred until its next use.
                await connection.ExecuteAsync("SELECT pg_advisory_unlock(@space, @key); RESET lock_timeout", new { space, key });
            }
            finally
            {
                await connection.DisposeAsync();
            }
        }
    }
}
