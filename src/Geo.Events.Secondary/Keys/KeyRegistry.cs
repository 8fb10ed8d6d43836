using Dapper;
using Geo.Events.Contracts;
using Geo.Events.Core.Keys;
using Npgsql;

namespace Geo.Events.Secondary.Keys;

/// <summary>The <c>ssh_keys</c> table. Every write needs a newer sequence than the row holds, so an older event never wins.</summary>
public sealed class KeyRegistry(NpgsqlDataSource dataSource)
{
    public sealed record LiveKey(long KeyId, string KeyType, string KeyBlob);

    /// <summary>The PostgreSQL channel on which a change of the registry is announced to every instance.</summary>
    public const string Channel = "geo_ssh_keys";

    /// <summary>Returns true when the row changed (a new or newer key), false for a duplicate or an older event.</summary>
    public async Task<bool> CreateAsync(SshKeyCreated evt, SshPublicKey key, CancellationToken cancellationToken)
    {
        return await ChangeAsync(
            """
            INSERT INTO ssh_keys (key_id, username, user_id, key_type, key_blob, fingerprint, sequence, destroyed)
            VALUES (@KeyId, @Username, @UserId, @type, @blob, @fingerprint, @Sequence, false)
            ON CONFLICT (key_id) DO UPDATE
               SET username = EXCLUDED.username, user_id = EXCLUDED.user_id, key_type = EXCLUDED.key_type,
                   key_blob = EXCLUDED.key_blob, fingerprint = EXCLUDED.fingerprint, sequence = EXCLUDED.sequence,
                   destroyed = false, updated_at = now()
             WHERE ssh_keys.sequence < EXCLUDED.sequence
            """,
            new { evt.KeyId, evt.Username, evt.UserId, type = key.Type, blob = key.Base64, fingerprint = key.Fingerprint, evt.Sequence },
            cancellationToken);
    }

    /// <summary>Leaves a tombstone; returns true when the row changed.</summary>
    public async Task<bool> DestroyAsync(SshKeyDestroyed evt, CancellationToken cancellationToken)
    {
        return await ChangeAsync(
            """
            INSERT INTO ssh_keys (key_id, username, user_id, sequence, destroyed)
            VALUES (@KeyId, @Username, @UserId, @Sequence, true)
            ON CONFLICT (key_id) DO UPDATE
               SET destroyed = true, sequence = EXCLUDED.sequence, updated_at = now()
             WHERE ssh_keys.sequence < EXCLUDED.sequence
            """,
            new { evt.KeyId, evt.Username, evt.UserId, evt.Sequence },
            cancellationToken);
    }

    /// <summary>
    /// Runs one write; when it changed a row, announces it on <see cref="Channel"/> in the same transaction, so every
    /// instance of this secondary (each with its own authorized_keys) hears of a committed change and of nothing else.
    /// </summary>
    private async Task<bool> ChangeAsync(string sql, object parameters, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var changed = await connection.ExecuteAsync(new CommandDefinition(sql, parameters, transaction, cancellationToken: cancellationToken)) > 0;
        if (changed)
        {
            await connection.ExecuteAsync(new CommandDefinition($"NOTIFY {Channel}", transaction: transaction, cancellationToken: cancellationToken));
        }

        await transaction.CommitAsync(cancellationToken);
        return changed;
    }

    /// <summary>Every live key, streamed in key id order (a file of 100k keys need not sit in memory).</summary>
    public async IAsyncEnumerable<LiveKey> LiveKeysAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var rows = connection.QueryUnbufferedAsync<LiveKey>(
            "SELECT key_id AS KeyId, key_type AS KeyType, key_blob AS KeyBlob FROM ssh_keys WHERE NOT destroyed ORDER BY key_id");
        await foreach (var row in rows.WithCancellation(cancellationToken))
        {
            yield return row;
        }
    }

    public async Task<LiveKey?> FindAsync(SshPublicKey key, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.QueryFirstOrDefaultAsync<LiveKey>(new CommandDefinition(
            """
            SELECT key_id AS KeyId, key_type AS KeyType, key_blob AS KeyBlob
              FROM ssh_keys
             WHERE fingerprint = @fingerprint AND NOT destroyed AND key_type = @type AND key_blob = @blob
             ORDER BY key_id
            """,
            new { fingerprint = key.Fingerprint, type = key.Type, blob = key.Base64 },
            cancellationToken: cancellationToken));
    }

    public async Task<(long Live, long Destroyed)> CountsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.QuerySingleAsync<(long, long)>(new CommandDefinition(
            "SELECT count(*) FILTER (WHERE NOT destroyed), count(*) FILTER (WHERE destroyed) FROM ssh_keys", cancellationToken: cancellationToken));
    }
}
