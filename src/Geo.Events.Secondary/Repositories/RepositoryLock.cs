using Dapper;
using Geo.Events.Contracts;
using Npgsql;

namespace Geo.Events.Secondary.Repositories;

/// <summary>
/// One writer per repository across every instance of this secondary: a PostgreSQL session advisory lock,
/// held on its own connection for as long as the sync runs. PostgreSQL releases it by itself if the
/// process dies, because the session ends.
/// </summary>
public sealed class RepositoryLock(NpgsqlDataSource dataSource)
{
    // Distinguishes repository locks from any other advisory lock the secondary may take later.
    private const int RepositoryLockSpace = 0x4745_4F00; // "GEO\0"

    /// <summary>The lock of one repository: a project's own (<see cref="RepositoryKind.Project"/>) or its wiki's.</summary>
    public async Task<IAsyncDisposable> AcquireAsync(long projectId, TimeSpan timeout, CancellationToken cancellationToken, RepositoryKind kind = RepositoryKind.Project)
    {
        var repository = projectId * 2 + (long)kind;
        var key = unchecked((int)(repository ^ (repository >> 32)));
        var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        try
        {
            // Advisory lock waits obey lock_timeout: a wedged holder turns into an error, not a stuck consumer.
            // Both statements go in one round trip.
            await connection.ExecuteAsync(new CommandDefinition(
                $"SET lock_timeout = {(long)timeout.TotalMilliseconds}; SELECT pg_advisory_lock(@space, @key)",
                new { space = RepositoryLockSpace, key },
                commandTimeout: (int)timeout.TotalSeconds + 5,
                cancellationToken: cancellationToken));
            return new Lease(connection, key);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    // File locks live in a space of their own, keyed by PostgreSQL's hash of kind and path.
    private const int FileLockSpace = 0x4745_4F01;

    /// <summary>One writer per file across every instance of this secondary.</summary>
    public async Task<IAsyncDisposable> AcquireFileAsync(FileKind kind, string path, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        try
        {
            var key = await connection.ExecuteScalarAsync<int>(new CommandDefinition(
                $"SET lock_timeout = {(long)timeout.TotalMilliseconds}; " +
                "SELECT k.key FROM (SELECT hashtext(@name) AS key) AS k CROSS JOIN LATERAL (SELECT pg_advisory_lock(@space, k.key)) AS locked",
                new { space = FileLockSpace, name = (int)kind + ":" + path },
                commandTimeout: (int)timeout.TotalSeconds + 5, cancellationToken: cancellationToken));
            return new Lease(connection, key, FileLockSpace);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    private sealed class Lease(NpgsqlConnection connection, int key, int space = RepositoryLockSpace) : IAsyncDisposable
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
