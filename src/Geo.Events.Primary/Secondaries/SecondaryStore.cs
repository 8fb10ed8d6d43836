using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Dapper;
using Geo.Events.Contracts.Api;
using Geo.Events.Core.Security;
using Npgsql;

namespace Geo.Events.Primary.Secondaries;

/// <summary>The <c>secondaries</c> table: who registered, with which token hash, and what each last reported.</summary>
public sealed class SecondaryStore(NpgsqlDataSource dataSource)
{
    public enum Outcome
    {
        Registered,
        AlreadyRegistered,
        NameTaken,
    }

    public async Task<IReadOnlyList<string>> NamesAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return (await connection.QueryAsync<string>(new CommandDefinition("SELECT name FROM secondaries ORDER BY name", cancellationToken: cancellationToken))).AsList();
    }

    /// <summary>Inserts the secondary, or recognises a repeat of the same registration by its token.</summary>
    public async Task<Outcome> RegisterAsync(string name, string? url, string[] namespaces, string token, CancellationToken cancellationToken)
    {
        var hash = Secrets.Hash(token);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var inserted = await connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO secondaries (name, url, namespaces, token_sha256) VALUES (@name, @url, @namespaces, @hash)
            ON CONFLICT (name) DO NOTHING
            """,
            new { name, url, namespaces, hash }, cancellationToken: cancellationToken));
        if (inserted == 1)
        {
            return Outcome.Registered;
        }

        if (!await MatchesAsync(name, token, cancellationToken))
        {
            return Outcome.NameTaken;
        }

        await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE secondaries SET url = @url, namespaces = @namespaces WHERE name = @name",
            new { name, url, namespaces }, cancellationToken: cancellationToken));
        return Outcome.AlreadyRegistered;
    }

    /// <summary>True when <paramref name="token"/> is <paramref name="name"/>'s access token; constant time in the token.</summary>
    public async Task<bool> MatchesAsync(string name, string token, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var stored = await connection.QuerySingleOrDefaultAsync<string>(new CommandDefinition(
            "SELECT token_sha256 FROM secondaries WHERE name = @name", new { name }, cancellationToken: cancellationToken));
        // An unknown name still costs a comparison, so timing does not tell names apart.
        return Secrets.Matches(token, stored);
    }

    /// <summary>
    /// Stores a status report as it was sent (<paramref name="statusJson"/>: fields a newer secondary adds are kept),
    /// closes the requests whose runs <paramref name="status"/> shows finished, and returns the ones still open:
    /// the secondary starts those it has not started yet.
    /// </summary>
    public async Task<IReadOnlyList<SecondaryRequest>> ReportAsync(string name, string statusJson, SecondaryStatus status, CancellationToken cancellationToken)
    {
        var finished = (status.Runs ?? []).Where(r => r.State == ReconcileRunState.Finished && r.RequestId is not null).ToList();
        var finishedIds = finished.Select(r => r.RequestId!.Value).ToArray();
        var outcomes = finished.Select(r => JsonSerializer.Serialize(r, ApiJson.Options)).ToArray();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE secondaries SET status = @statusJson::jsonb, last_heartbeat_at = now() WHERE name = @name",
            new { name, statusJson }, transaction, cancellationToken: cancellationToken));
        await connection.ExecuteAsync(new CommandDefinition(
            """
            UPDATE secondary_requests r SET finished_at = now(), outcome = run.outcome::jsonb
              FROM unnest(@finishedIds, @outcomes) AS run (id, outcome)
             WHERE r.secondary = @name AND r.finished_at IS NULL AND r.id = run.id
            """,
            new { name, finishedIds, outcomes }, transaction, cancellationToken: cancellationToken));
        var open = await connection.QueryAsync<SecondaryRequest>(new CommandDefinition(
            "SELECT id AS Id, kind AS Kind, project_id AS ProjectId FROM secondary_requests WHERE secondary = @name AND finished_at IS NULL ORDER BY id",
            new { name }, transaction, cancellationToken: cancellationToken));
        await transaction.CommitAsync(cancellationToken);
        return open.AsList();
    }

    public async Task<string[]> NamespacesAsync(string name, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.QuerySingleOrDefaultAsync<string[]>(new CommandDefinition(
            "SELECT namespaces FROM secondaries WHERE name = @name", new { name }, cancellationToken: cancellationToken)) ?? [];
    }
}
