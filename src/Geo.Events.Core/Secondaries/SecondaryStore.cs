using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Dapper;
using Geo.Events.Contracts.Api;
using Geo.Events.Core.Security;
using Npgsql;

namespace Geo.Events.Core.Secondaries;

/// <summary>
/// The <c>secondaries</c> and <c>secondary_requests</c> tables in geo-primary's database: who registered, with which
/// token hash, what each last reported, and the work geo-admin left for them. geo-primary and geo-admin both use it.
/// </summary>
public sealed class SecondaryStore(NpgsqlDataSource dataSource)
{
    /// <summary>A registered secondary as geo-admin lists and shows it.</summary>
    public sealed class Row
    {
        public required string Name { get; init; }
        public string? Url { get; init; }
        public string[] Namespaces { get; init; } = [];
        public DateTime RegisteredAt { get; init; }
        public DateTime? LastHeartbeatAt { get; init; }
        public double? HeartbeatAgeSeconds { get; init; }

        /// <summary>The last status report exactly as the secondary sent it; <see cref="ReadStatus"/> reads it typed.</summary>
        public string? Status { get; init; }
    }

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
            INSERT INTO secondaries (name, url, namespaces, token_sha256, applied_through)
            VALUES (@name, @url, @namespaces, @hash, (SELECT coalesce(max(id), 0) FROM event_log))
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
    public async Task<StatusAnswer> ReportAsync(string name, string statusJson, SecondaryStatus status, CancellationToken cancellationToken)
    {
        var finished = (status.Runs ?? []).Where(r => r.State == ReconcileRunState.Finished && r.RequestId is not null).ToList();
        var finishedIds = finished.Select(r => r.RequestId!.Value).ToArray();
        var outcomes = finished.Select(r => JsonSerializer.Serialize(r, ApiJson.Options)).ToArray();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE secondaries SET status = @statusJson::jsonb, last_heartbeat_at = now() WHERE name = @name",
            new { name, statusJson }, transaction, cancellationToken: cancellationToken));
        var applied = (status.Applied ?? []).Take(SecondaryStatus.MaxAppliedRanges).Where(r => r.From <= r.To).ToList();
        var appliedThrough = await connection.QuerySingleOrDefaultAsync<long?>(new CommandDefinition(
            $"""
            UPDATE secondaries s SET applied_through = greatest(s.applied_through, coalesce(
                       (SELECT min(e.id) - 1 FROM event_log e WHERE e.id > s.applied_through AND NOT ({Applied("@from", "@to")})),
                       (SELECT max(e.id) FROM event_log e WHERE e.id > s.applied_through),
                       s.applied_through))
             WHERE s.name = @name
            RETURNING s.applied_through
            """,
            new { name, from = applied.Select(r => r.From).ToArray(), to = applied.Select(r => r.To).ToArray() },
            transaction, cancellationToken: cancellationToken));
        await connection.ExecuteAsync(new CommandDefinition(
            """
            UPDATE secondary_requests r SET finished_at = now(), outcome = run.outcome::jsonb
              FROM unnest(@finishedIds, @outcomes) AS run (id, outcome)
             WHERE r.secondary = @name AND r.finished_at IS NULL AND r.id = run.id
            """,
            new { name, finishedIds, outcomes }, transaction, cancellationToken: cancellationToken));
        var open = await connection.QueryAsync<SecondaryRequest>(new CommandDefinition(
            "SELECT id AS Id, kind AS Kind, project_id AS ProjectId, argument AS Argument FROM secondary_requests WHERE secondary = @name AND finished_at IS NULL ORDER BY id",
            new { name }, transaction, cancellationToken: cancellationToken));
        await transaction.CommitAsync(cancellationToken);
        return new StatusAnswer { Requests = open.AsList(), AppliedThrough = appliedThrough };
    }

    /// <summary>
    /// SQL: event <c>e</c> is in one of the ranges given as two arrays of bounds. geo-primary's event ids have gaps (a
    /// repeated delivery or a rolled-back insert uses one up), so the watermark moves over event_log's rows, not over
    /// numbers.
    /// </summary>
    private static string Applied(string from, string to) =>
        $"EXISTS (SELECT 1 FROM unnest({from}::bigint[], {to}::bigint[]) AS r (lo, hi) WHERE e.id BETWEEN r.lo AND r.hi)";

    /// <summary>
    /// What still waits for one secondary, computed by geo-primary from its own event log, so that it counts what sits
    /// in the secondary's queue, its delay queues or the outbox, whether the secondary runs or not.
    /// </summary>
    /// <param name="AppliedThrough">The secondary's low watermark.</param>
    /// <param name="Unapplied">Events after the watermark not reported finished (up to <see cref="MaxCounted"/>).</param>
    /// <param name="OldestUnappliedSequence">The oldest of them; null when none waits.</param>
    /// <param name="OldestUnappliedSeconds">Its age now; null when none waits.</param>
    public sealed record Lag(string Name, long AppliedThrough, long Unapplied, long? OldestUnappliedSequence, double? OldestUnappliedSeconds);

    /// <summary>Unapplied events are counted up to this many (a long outage must not make every status call slow).</summary>
    public const int MaxCounted = 1_000_000;

    /// <summary>Every registered secondary's <see cref="Lag"/>, or the one named <paramref name="name"/>.</summary>
    public async Task<IReadOnlyList<Lag>> LagAsync(string? name, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return (await connection.QueryAsync<Lag>(new CommandDefinition(
            $"""
            SELECT s.name AS Name, s.applied_through AS AppliedThrough, w.unapplied AS Unapplied, w.oldest AS OldestUnappliedSequence,
                   extract(epoch FROM now() - w.oldest_at)::float8 AS OldestUnappliedSeconds
              FROM secondaries s,
                   LATERAL (SELECT array_agg((r->>'from')::bigint) AS lo, array_agg((r->>'to')::bigint) AS hi
                              FROM jsonb_array_elements(CASE WHEN jsonb_typeof(s.status->'applied') = 'array' THEN s.status->'applied' ELSE '[]' END) r) a,
                   LATERAL (SELECT count(*) AS unapplied, min(u.id) AS oldest, min(u.received_at) AS oldest_at
                              FROM (SELECT e.id, e.received_at FROM event_log e
                                     WHERE e.id > s.applied_through AND NOT ({Applied("coalesce(a.lo, '{}')", "coalesce(a.hi, '{}')")})
                                     ORDER BY e.id LIMIT {MaxCounted}) u) w
             WHERE @name::text IS NULL OR s.name = @name
             ORDER BY s.name
            """,
            new { name }, cancellationToken: cancellationToken))).AsList();
    }

    /// <summary>Every registered secondary, or the one named <paramref name="name"/>.</summary>
    public async Task<IReadOnlyList<Row>> RowsAsync(string? name, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return (await connection.QueryAsync<Row>(new CommandDefinition(
            """
            SELECT name AS Name, url AS Url, namespaces AS Namespaces, registered_at AS RegisteredAt, last_heartbeat_at AS LastHeartbeatAt,
                   extract(epoch FROM now() - last_heartbeat_at)::float8 AS HeartbeatAgeSeconds, status::text AS Status
              FROM secondaries WHERE @name::text IS NULL OR name = @name ORDER BY name
            """,
            new { name }, cancellationToken: cancellationToken))).AsList();
    }

    /// <summary>Deletes the secondary and its token (its requests go with it); false when there is no such secondary.</summary>
    public async Task<bool> RemoveAsync(string name, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteAsync(new CommandDefinition("DELETE FROM secondaries WHERE name = @name", new { name }, cancellationToken: cancellationToken)) > 0;
    }

    /// <summary>Leaves a request for the secondary's next status report; null when there is no such secondary.</summary>
    /// <param name="kind">One of <see cref="ReconcileKind"/> or <see cref="SafetyNetKind"/>.</param>
    /// <param name="argument">A safety-net request's argument (<see cref="SecondaryRequest.Argument"/>).</param>
    public async Task<long?> RequestAsync(string name, string kind, long? projectId, string actor, CancellationToken cancellationToken, string? argument = null)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.QuerySingleOrDefaultAsync<long?>(new CommandDefinition(
            """
            INSERT INTO secondary_requests (secondary, kind, project_id, requested_by, argument)
            SELECT name, @kind, @projectId, @actor, @argument FROM secondaries WHERE name = @name
            RETURNING id
            """,
            new { name, kind, projectId, actor, argument }, cancellationToken: cancellationToken));
    }

    /// <summary>
    /// The run answering a request: the outcome its closed request kept, else what the secondary's last report says
    /// of it; null while no report mentions it.
    /// </summary>
    public async Task<ReconcileRunStatus?> RequestProgressAsync(long request, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var row = await connection.QuerySingleOrDefaultAsync<(string? Outcome, string? Status)>(new CommandDefinition(
            """
            SELECT r.outcome::text, s.status::text
              FROM secondary_requests r JOIN secondaries s ON s.name = r.secondary
             WHERE r.id = @request
            """,
            new { request }, cancellationToken: cancellationToken));
        try
        {
            return row.Outcome is { } outcome
                ? JsonSerializer.Deserialize<ReconcileRunStatus>(outcome, ApiJson.Options)
                : ReadStatus(row.Status)?.Runs?.FirstOrDefault(r => r.RequestId == request);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>A stored status report, typed; null when there is none or it does not fit (its figures then count as unknown).</summary>
    public static SecondaryStatus? ReadStatus(string? json)
    {
        try
        {
            return json is null ? null : JsonSerializer.Deserialize<SecondaryStatus>(json, ApiJson.Options);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public async Task<string[]> NamespacesAsync(string name, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.QuerySingleOrDefaultAsync<string[]>(new CommandDefinition(
            "SELECT namespaces FROM secondaries WHERE name = @name", new { name }, cancellationToken: cancellationToken)) ?? [];
    }
}
