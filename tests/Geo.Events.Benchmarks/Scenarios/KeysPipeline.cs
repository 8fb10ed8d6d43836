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
    /// consuming half takes when the figure above is lower.
    /// </summary>
    public static async Task<double> PublishedPerSecondAsync(GeoSite site, int events, long firstKeyId)
    {
        var before = await site.QueryPrimaryAsync<long>("SELECT count(*) FROM event_log WHERE published_at IS NOT NULL");
        var clock = await PostAsync(site, events, firstKeyId);
        await GeoSite.WaitUntilAsync(
            async () => await site.QueryPrimaryAsync<long>("SELECT count(*) FROM event_log WHERE published_at IS NOT NULL") >= before + events,
            TimeSpan.FromMinutes(5), () => "geo-primary did not publish every event");
        return events / clock.Elapsed.TotalSeconds;
    }

    private static async Task<Stopwatch> PostAsync(GeoSite site, int events, long firstKeyId)
    {
        var keys = Enumerable.Range(0, events).Select(_ => TestKeys.RandomEd25519()).ToArray();
        var clock = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, events), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, _) =>
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
