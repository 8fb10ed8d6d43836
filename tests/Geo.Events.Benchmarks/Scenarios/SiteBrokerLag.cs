using System.Text.Json.Nodes;
using Dapper;
using Geo.Events.Testing;
using Npgsql;

namespace Geo.Events.Benchmarks.Scenarios;

/// <summary>
/// Lag through a site broker against direct consumption, in one run: two secondaries of one primary, "direct" consuming
/// from the primary's broker, "site" from a separate broker (infra/local/site-broker) fed by the shovels of
/// infra/site-broker. Key hooks posted one at a time at a steady rate; each key's lag is from just before its hook was
/// posted to the secondary's registry write (ssh_keys.updated_at: the same machine's clock).
/// </summary>
public static class SiteBrokerLag
{
    public static readonly string[] Sites = ["direct", "site"];

    /// <summary>Starts the site broker, a primary and both secondaries, and links "site" through the site broker.</summary>
    public static async Task<GeoSite> StartAsync()
    {
        await TestBroker.Site.UpAsync();
        var site = await GeoSite.StartAsync(Sites, startSecondaries: false);
        await TestBroker.Site.CreateVhostAsync(site.VirtualHost);
        await Shell.RunAsync(Path.Combine(TestServers.RepoRoot, "infra", "site-broker"), TestServers.RepoRoot,
            "link", "site", "--vhost", site.VirtualHost,
            "--upstream", $"amqp://{TestServers.RabbitUser}:{TestServers.RabbitPassword}@127.0.0.1:{TestServers.RabbitPort}/{Uri.EscapeDataString(site.VirtualHost)}",
            "--management", $"http://127.0.0.1:{TestBroker.Site.ManagementPorts[0]}");
        site.StartSecondary("direct");
        site.StartSecondary("site", TestBroker.Site.Settings(site.VirtualHost));
        await site.WaitForSecondaryAsync("direct");
        await site.WaitForSecondaryAsync("site");
        return site;
    }

    public static async Task StopAsync(GeoSite site)
    {
        var vhost = site.VirtualHost;
        await site.DisposeAsync();
        await TestBroker.Site.DeleteVhostAsync(vhost);
        await TestBroker.Site.DownAsync();
    }

    /// <summary>Each key's lag in ms, per secondary.</summary>
    public static async Task<Dictionary<string, List<double>>> LagsMsAsync(GeoSite site, int events, int perSecond, long firstKeyId)
    {
        var posted = new Dictionary<long, DateTime>();
        var interval = TimeSpan.FromSeconds(1.0 / perSecond);
        var start = DateTime.UtcNow;
        for (var i = 0; i < events; i++)
        {
            var due = start + interval * i;
            if (due > DateTime.UtcNow)
            {
                await Task.Delay(due - DateTime.UtcNow);
            }

            var id = firstKeyId + i;
            posted[id] = DateTime.UtcNow;
            await site.Hooks.AcceptedAsync(new JsonObject { ["event_name"] = "key_create", ["id"] = id, ["username"] = "bench", ["key"] = TestKeys.RandomEd25519() });
        }

        var lags = new Dictionary<string, List<double>>();
        foreach (var name in Sites)
        {
            await GeoSite.WaitUntilAsync(
                async () => await site.QuerySecondaryAsync<long>(name, "SELECT count(*) FROM ssh_keys WHERE key_id >= @firstKeyId", new { firstKeyId }) >= events,
                TimeSpan.FromMinutes(5), () => $"{name} did not apply every key");
            await using var connection = new NpgsqlConnection(TestServers.ConnectionString(site.SecondaryDatabase(name)));
            var applied = await connection.QueryAsync<(long Id, DateTime At)>(
                "SELECT key_id, updated_at FROM ssh_keys WHERE key_id >= @firstKeyId AND key_id < @end", new { firstKeyId, end = firstKeyId + events });
            lags[name] = applied.Select(a => (a.At.ToUniversalTime() - posted[a.Id]).TotalMilliseconds).ToList();
        }

        return lags;
    }
}
