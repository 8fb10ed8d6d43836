using Dapper;
using Geo.Events.Core.Security;
using Npgsql;

namespace Geo.Events.Primary.Admin;

/// <summary>The <c>admin_tokens</c> table: admin API tokens by name and scope, stored only as SHA-256 hashes.</summary>
public sealed class AdminTokenStore(NpgsqlDataSource dataSource)
{
    /// <summary>Sees status, lists and shows.</summary>
    public const string ReadScope = "read";

    /// <summary>May also act: replay, delete, restore, remove, backfill, verify, resync, guard.</summary>
    public const string AdminScope = "admin";

    public sealed record Token(string Name, string Scope, DateTime CreatedAt, DateTime? LastUsedAt);

    /// <summary>Creates a token named <paramref name="name"/> and returns it (the only time it is seen); null when the name is taken.</summary>
    public async Task<string?> CreateAsync(string name, string scope, CancellationToken cancellationToken)
    {
        var token = Secrets.NewToken();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var inserted = await connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO admin_tokens (name, scope, token_sha256) VALUES (@name, @scope, @hash) ON CONFLICT (name) DO NOTHING",
            new { name, scope, hash = Secrets.Hash(token) }, cancellationToken: cancellationToken));
        return inserted == 1 ? token : null;
    }

    public async Task<bool> RevokeAsync(string name, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteAsync(new CommandDefinition(
            "DELETE FROM admin_tokens WHERE name = @name", new { name }, cancellationToken: cancellationToken)) > 0;
    }

    public async Task<IReadOnlyList<Token>> ListAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return (await connection.QueryAsync<Token>(new CommandDefinition(
            "SELECT name AS Name, scope AS Scope, created_at AS CreatedAt, last_used_at AS LastUsedAt FROM admin_tokens ORDER BY name",
            cancellationToken: cancellationToken))).AsList();
    }

    /// <summary>
    /// The token <paramref name="presented"/> is, or null. Looked up by its SHA-256 (a token is 256 random bits, so
    /// the hash's index reveals nothing usable), then compared in constant time.
    /// </summary>
    public async Task<Token?> FindAsync(string presented, CancellationToken cancellationToken)
    {
        var hash = Secrets.Hash(presented);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var row = await connection.QuerySingleOrDefaultAsync<(string Name, string Scope, DateTime CreatedAt, DateTime? LastUsedAt, string Hash)?>(new CommandDefinition(
            """
            UPDATE admin_tokens SET last_used_at = now() WHERE token_sha256 = @hash
            RETURNING name, scope, created_at, last_used_at, token_sha256
            """,
            new { hash }, cancellationToken: cancellationToken));
        return row is { } r && Secrets.Matches(presented, r.Hash) ? new Token(r.Name, r.Scope, r.CreatedAt, r.LastUsedAt) : null;
    }
}
