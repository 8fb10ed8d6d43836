using Dapper;
using Npgsql;

namespace Geo.Events.Secondary.Registration;

/// <summary>
/// The <c>registration</c> table: this secondary's name, the primary it registered with, and its access token.
/// The token is chosen here and stored before the first attempt, so a retry after a crash is the same
/// registration, not a rival one.
/// </summary>
public sealed class RegistrationStore(NpgsqlDataSource dataSource)
{
    /// <param name="RegisteredAt">Null until geo-primary has accepted this registration.</param>
    public sealed record Stored(string AccessToken, DateTime? RegisteredAt);

    /// <summary>
    /// This secondary's row for <paramref name="primaryUrl"/>, created with a fresh token when there is none. A
    /// different primary URL is a new registration: the name is kept, the token and registration start over.
    /// </summary>
    public async Task<Stored> GetOrCreateAsync(string name, string primaryUrl, CancellationToken cancellationToken)
    {
        var fresh = Core.Security.Secrets.NewToken();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.QuerySingleAsync<Stored>(new CommandDefinition(
            """
            INSERT INTO registration (name, primary_url, access_token) VALUES (@name, @url, @fresh)
            ON CONFLICT (name) DO UPDATE
               SET primary_url = EXCLUDED.primary_url,
                   access_token = CASE WHEN registration.primary_url = EXCLUDED.primary_url THEN registration.access_token ELSE EXCLUDED.access_token END,
                   registered_at = CASE WHEN registration.primary_url = EXCLUDED.primary_url THEN registration.registered_at END
            RETURNING access_token AS AccessToken, registered_at AS RegisteredAt
            """,
            new { name, url = primaryUrl, fresh }, cancellationToken: cancellationToken));
    }

    public async Task MarkRegisteredAsync(string name, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE registration SET registered_at = now() WHERE name = @name", new { name }, cancellationToken: cancellationToken));
    }
}
