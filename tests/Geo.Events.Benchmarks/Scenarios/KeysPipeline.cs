using System.Diagnostics;
using System.Text.Json.Nodes;
using Geo.Events.Testing;

namespace Geo.Events.Benchmarks.Scenarios;

/// <summary>
/// Cheap events end to end: key_create hooks over HTTP → geo-primary (validate, outbox, publish with
/// confirms) → three secondaries (registry write). Events per second until every secondary has them all.
/// </summary>
public static class KeysPipeline
{
    public static readonly string[] Sites = ["tokyo", "berlin", "sydney"];

    public static async Task<double> EventsPerSecondAsync(GeoSite site, int events, long firstKeyId)
    {
        var clock = await PostAsync(site, events, firstKeyId);
        foreach (var name in Sites)
        {
            await GeoSite.WaitUntilAsync(
                async () => await site.QuerySecondaryAsync<long>(name, "SELECT count(*) FROM ssh_keys WHERE key_id >= @firstKeyId", new { firstKeyId }) >= events,
                TimeSpan.FromMinutes(5), () => $"{name} did not apply every key");
        }

        return events / clock.Elapsed.TotalSeconds;
    }

    /// <summary>
    /// The primary's half alone, on a site whose secondaries are not running: hooks recorded and published
    /// (confirmed by the broker into the three queues) per second. It shows how much of the machine the
    /// consuming half takes when the figure above is lower. Beside it, hooks answered (202: committed) per second:
    /// when that is higher, the dispatcher is what sets the pace. The clock stops at the last mark's own time
    /// (published_at, from PostgreSQL on this machine), not at the poll that saw it. <paramref name="inFlight"/> hooks are
    /// posted at a time (GitLab sends system hooks from as many Sidekiq threads as it runs).
    /// </summary>
    public static async Task<(double Accepted, double Published)> PublishedPerSecondAsync(GeoSite site, int events, long firstKeyId, int inFlight = 16)
    {
        var clock = await PostAsync(site, events, firstKeyId, inFlight);
        var accepted = clock.Elapsed;
        var started = DateTime.UtcNow - accepted;
        await GeoSite.WaitUntilAsync(
            async () => await site.QueryPrimaryAsync<long>("SELECT count(*) FROM event_log WHERE published_at IS NULL") == 0,
            TimeSpan.FromMinutes(5), () => "geo-primary did not publish every event");
        var lastMarked = await site.QueryPrimaryAsync<DateTime>("SELECT max(published_at) FROM event_log");
        return (events / accepted.TotalSeconds, events / (lastMarked - started).TotalSeconds);
    }

    private static async Task<Stopwatch> PostAsync(GeoSite site, int events, long firstKeyId, int inFlight = 16)
    {
        var keys = Enumerable.Range(0, events).Select(_ => TestKeys.RandomEd25519()).ToArray();
        var clock = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, events), new ParallelOptions { MaxDegreeOfParallelism = inFlight }, async (i, _) =>
            await site.Hooks.AcceptedAsync(new JsonObject
            {
                ["event_name"] = "key_create",
                ["id"] = firstKeyId + i,
                ["username"] = "bench",
                ["key"] = keys[i],
            }));
        return clock;
    }

}
