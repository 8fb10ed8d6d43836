using System.Globalization;
using Geo.Events.Contracts.Api;
using Geo.Events.Core.DeadLetters;
using Geo.Events.Core.Messaging;
using Npgsql;

namespace Geo.Events.Core.Secondaries;

/// <summary>
/// Every registered secondary's <see cref="SecondaryHealth"/>, from geo-primary's database and the broker: what
/// <c>geo-admin status</c> prints, what the admin API answers and what the status page shows.
/// </summary>
public static class SecondaryHealthCheck
{
    public static async Task<(IReadOnlyList<SecondaryHealth> Secondaries, long PrimarySequence)> CollectAsync(
        NpgsqlDataSource dataSource, RabbitMqOptions rabbit, TimeSpan maxLag, TimeSpan stale, string? name, CancellationToken ct)
    {
        var store = new SecondaryStore(dataSource);
        var rows = await store.RowsAsync(name, ct);
        var queued = await QueueDepthsAsync(rabbit, rows.Select(r => r.Name).ToList(), ct);
        var primarySequence = await new Outbox.EventLog(dataSource).LatestSequenceAsync(ct);
        var letters = (await new DeadLetterStore(dataSource).CountsAsync(ct))
            .Where(r => r.State == DeadLetterState.Failed).ToDictionary(r => r.Secondary, r => r.Count);
        var lags = (await store.LagAsync(name, ct)).ToDictionary(l => l.Name);
        return (rows.Select(r => Assess(r, lags.GetValueOrDefault(r.Name), queued[r.Name], letters.GetValueOrDefault(r.Name), primarySequence, maxLag, stale)).ToList(),
            primarySequence);
    }

    /// <summary>Never "ok" while the backlog is old, the secondary is silent, or something failed.</summary>
    public static SecondaryHealth Assess(SecondaryStore.Row row, SecondaryStore.Lag? lag, long? queued, long deadLetters, long primarySequence, TimeSpan maxLag, TimeSpan stale)
    {
        var status = SecondaryStore.ReadStatus(row.Status);
        var projects = status?.Projects;
        // geo-primary's count, never the secondary's own registry: that knows nothing of what waits in its queue.
        var oldest = lag?.OldestUnappliedSeconds;
        var failed = projects?.Failed ?? 0;

        var (verdict, reason) = true switch
        {
            _ when queued is null => ("broken", "its queue does not exist: events are not being kept for it"),
            _ when row.HeartbeatAgeSeconds is null => ("unknown", "it has never reported its status"),
            _ when row.HeartbeatAgeSeconds > stale.TotalSeconds => ("stale", $"silent for {Age(row.HeartbeatAgeSeconds.Value)}; its figures may be old"),
            _ when status?.SafetyNet is { Guarded: true } guard => ("guarded", $"the mass-destruction guard holds {guard.HeldDestroys} destroys ({guard.GuardReason}); 'geo-admin guard release|discard {row.Name}'"),
            _ when oldest > maxLag.TotalSeconds => ("behind", $"{lag!.Unapplied} events wait for it, the oldest {Age(oldest!.Value)} old (limit {Age(maxLag.TotalSeconds)})"),
            _ when failed > 0 || deadLetters > 0 => ("failing", $"{failed} projects failed, {deadLetters} dead letters"),
            _ => ("ok", ""),
        };
        return new SecondaryHealth(row.Name, verdict, reason, row.HeartbeatAgeSeconds, queued, oldest,
            projects?.Synced ?? 0, projects?.Pending ?? 0, failed, projects?.Destroyed ?? 0, deadLetters, status?.LastSyncedSequence, primarySequence,
            lag?.Unapplied ?? 0, lag?.AppliedThrough ?? 0)
        {
            Differs = status?.Repositories?.ToDictionary(r => r.Key, r => r.Value.Differs ?? 0),
            Serving = status?.Serving,
        };
    }

    /// <summary>Messages waiting in each secondary's queue (null: the queue does not exist), straight from the broker.</summary>
    public static async Task<Dictionary<string, long?>> QueueDepthsAsync(RabbitMqOptions rabbit, IReadOnlyList<string> names, CancellationToken ct)
    {
        var depths = new Dictionary<string, long?>();
        if (names.Count == 0)
        {
            return depths;
        }

        await using var broker = await rabbit.ConnectAsync("geo status", ct);
        foreach (var name in names)
        {
            // A passive declare of a missing queue closes the channel: one channel per look.
            await using var channel = await broker.CreateChannelAsync(cancellationToken: ct);
            try
            {
                depths[name] = (await channel.QueueDeclarePassiveAsync(SecondaryTopology.Queue(name), ct)).MessageCount;
            }
            catch (RabbitMQ.Client.Exceptions.OperationInterruptedException)
            {
                depths[name] = null;
            }
        }

        return depths;
    }

    /// <summary>A duration as a person reads it: &lt;1s, 42s, 17m, 3.5h.</summary>
    public static string Age(double seconds) => seconds switch
    {
        < 1 => "<1s",
        < 120 => string.Create(CultureInfo.InvariantCulture, $"{seconds:0}s"),
        < 7200 => string.Create(CultureInfo.InvariantCulture, $"{seconds / 60:0}m"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{seconds / 3600:0.#}h"),
    };
}
