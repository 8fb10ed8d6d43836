using System.Security.Cryptography;
using System.Text;
using Dapper;
using Npgsql;

namespace Geo.Events.Secondary.Serving;

/// <summary>
/// The <c>access_decisions</c> table: the primary's recent "yes" answers, so that a CI job's many fetches cost one
/// round trip to the primary per <c>Secondary:AuthCacheTtl</c>. Keyed by a SHA-256 of credential, protocol, action
/// and repository: the table never holds a credential, and a "yes" for one repository or one credential says
/// nothing about another. Stored are the primary's "yes", and its "send credentials" (401) to an anonymous request
/// (a "no" that only ever makes git send its credentials); any other refusal is asked again every time.
/// </summary>
public sealed class AccessCache(NpgsqlDataSource dataSource)
{
    /// <summary>The cache key: hex SHA-256 of the parts, each length-prefixed so that no two different tuples collide.</summary>
    public static string Key(string protocol, string credential, string action, string repository)
    {
        var text = string.Concat(new[] { protocol, credential, action, repository }.Select(p => $"{p.Length}:{p}\n"));
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
    }

    /// <summary>Whether an unexpired answer is stored under <paramref name="key"/>.</summary>
    public async Task<bool> HoldsAsync(string key, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
            "SELECT EXISTS (SELECT 1 FROM access_decisions WHERE key_hash = @key AND expires_at > now())",
            new { key }, cancellationToken: cancellationToken));
    }

    public async Task RememberAsync(string key, TimeSpan ttl, CancellationToken cancellationToken)
    {
        if (ttl <= TimeSpan.Zero)
        {
            return;
        }

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            """
            DELETE FROM access_decisions WHERE expires_at < now();
            INSERT INTO access_decisions (key_hash, expires_at) VALUES (@key, now() + @ttl)
            ON CONFLICT (key_hash) DO UPDATE SET expires_at = EXCLUDED.expires_at
            """,
            new { key, ttl }, cancellationToken: cancellationToken));
    }
}
