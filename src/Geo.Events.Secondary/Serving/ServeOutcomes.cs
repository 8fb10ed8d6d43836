using Dapper;
using Geo.Events.Core.Observability;
using Npgsql;

namespace Geo.Events.Secondary.Serving;

/// <summary>
/// What one git-shell process (one SSH connection) decided and served: the row it leaves in <c>serve_outcomes</c>.
/// No credential: the key's id, the repository as the client named it, the outcome, the figures.
/// </summary>
public sealed record ServeOutcome
{
    public string Protocol { get; init; } = InternalApiAccess.Protocol;

    public string Repository { get; init; } = "";

    public string Service { get; init; } = "";

    public long? KeyId { get; init; }

    /// <summary>What the log line says, e.g. <c>served (cached)</c> or <c>redirected to the primary: …</c>.</summary>
    public string Outcome { get; init; } = "";

    /// <summary><c>local</c> or <c>redirected</c> for a clone or fetch the site served or sent to the primary; null otherwise.</summary>
    public string? Served { get; init; }

    /// <summary>The label of geo_serve_decisions_total (<see cref="AccessDecision.Label"/>), when the primary's decision was needed.</summary>
    public string? Decision { get; init; }

    /// <summary><c>cached</c> or <c>asked</c>, with <see cref="DecisionSeconds"/>.</summary>
    public string? DecisionSource { get; init; }

    public double? DecisionSeconds { get; init; }

    public long Bytes { get; init; }

    public double DurationMs { get; init; }
}

/// <summary>
/// The <c>serve_outcomes</c> table: git-shell writes one row as it ends (one statement, its only round trip besides the
/// freshness query and the cache), and the long-running geo-secondary takes the rows every two seconds
/// (<see cref="ServeOutcomeDrain"/>) into geo_serve_* with protocol "ssh", its status report and its log.
/// </summary>
public static class ServeOutcomes
{
    public static async Task RecordAsync(NpgsqlDataSource dataSource, ServeOutcome outcome, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO serve_outcomes (protocol, repository, service, key_id, outcome, served, decision, decision_source, decision_seconds, bytes, duration_ms)
            VALUES (@Protocol, @Repository, @Service, @KeyId, @Outcome, @Served, @Decision, @DecisionSource, @DecisionSeconds, @Bytes, @DurationMs)
            """, outcome, cancellationToken: cancellationToken));
    }

    /// <summary>Takes (deletes and returns) up to <paramref name="limit"/> rows, oldest first; rows another instance is taking are skipped.</summary>
    public static async Task<IReadOnlyList<(DateTime At, ServeOutcome Outcome)>> TakeAsync(NpgsqlDataSource dataSource, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var rows = await connection.QueryAsync<Row>(new CommandDefinition(
            """
            DELETE FROM serve_outcomes
             WHERE id IN (SELECT id FROM serve_outcomes ORDER BY id LIMIT @limit FOR UPDATE SKIP LOCKED)
            RETURNING id AS Id, at AS At, protocol AS Protocol, repository AS Repository, service AS Service, key_id AS KeyId,
                      outcome AS Outcome, served AS Served, decision AS Decision, decision_source AS DecisionSource,
                      decision_seconds AS DecisionSeconds, bytes AS Bytes, duration_ms AS DurationMs
            """, new { limit }, cancellationToken: cancellationToken));
        return [.. rows.OrderBy(r => r.Id).Select(r => (DateTime.SpecifyKind(r.At, DateTimeKind.Utc), new ServeOutcome
        {
            Protocol = r.Protocol,
            Repository = r.Repository,
            Service = r.Service,
            KeyId = r.KeyId,
            Outcome = r.Outcome,
            Served = r.Served,
            Decision = r.Decision,
            DecisionSource = r.DecisionSource,
            DecisionSeconds = r.DecisionSeconds,
            Bytes = r.Bytes,
            DurationMs = r.DurationMs,
        }))];
    }

    /// <summary>Counts one outcome in geo_serve_* (the same series HTTP's requests count in, under their protocol).</summary>
    public static void Count(ServeOutcome outcome)
    {
        if (outcome.Served is { } served)
        {
            GeoMetrics.ServeClones.WithLabels(outcome.Protocol, served).Inc();
        }

        if (outcome.Decision is { } decision)
        {
            GeoMetrics.ServeDecisions.WithLabels(outcome.Protocol, decision).Inc();
        }

        if (outcome is { DecisionSource: { } source, DecisionSeconds: { } seconds })
        {
            GeoMetrics.ServeDecisionDuration.WithLabels(outcome.Protocol, source).Observe(seconds);
        }

        if (outcome.Bytes > 0)
        {
            GeoMetrics.ServeBytes.WithLabels(outcome.Protocol).Inc(outcome.Bytes);
        }
    }

    private sealed record Row(
        long Id, DateTime At, string Protocol, string Repository, string Service, long? KeyId, string Outcome, string? Served,
        string? Decision, string? DecisionSource, double? DecisionSeconds, long Bytes, double DurationMs);
}

/// <summary>
/// Takes what the git-shell processes recorded (<see cref="ServeOutcomes"/>) every two seconds: one log line per SSH
/// request, like HTTP's, and the geo_serve_* series with protocol "ssh".
/// </summary>
public sealed class ServeOutcomeDrain(NpgsqlDataSource dataSource, ILogger<ServeOutcomeDrain> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval);
        do
        {
            try
            {
                IReadOnlyList<(DateTime At, ServeOutcome Outcome)> taken;
                do
                {
                    taken = await ServeOutcomes.TakeAsync(dataSource, 1000, stoppingToken);
                    foreach (var (at, outcome) in taken)
                    {
                        ServeOutcomes.Count(outcome);
                        logger.LogInformation(
                            "SSH {Repository} {Service} key {KeyId} → {Outcome}, {Bytes} bytes in {Ms:0} ms (at {At:O})",
                            outcome.Repository, outcome.Service, outcome.KeyId, outcome.Outcome, outcome.Bytes, outcome.DurationMs, at);
                    }
                }
                while (taken.Count == 1000);
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException)
            {
                logger.LogWarning("Could not read what git-shell served: {Error}", e.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
