using System.Text.Json.Nodes;
using Geo.Events.Testing;

namespace Geo.Events.IntegrationTests;

/// <summary>
/// A broker per site (infra/site-broker): a secondary consumes from a broker of its own, fed from the primary's broker
/// by a shovel across a link that the test cuts and restores. Two separate one-node brokers: the primary's is the shared
/// node of infra/local/up, the site's is infra/local/site-broker's (started here, stopped at the end).
/// </summary>
[TestClass]
public sealed class SiteBrokerTests
{
    [ClassInitialize]
    public static async Task StartSiteBroker(TestContext _) => await TestBroker.Site.UpAsync();

    [ClassCleanup]
    public static async Task StopSiteBroker() => await TestBroker.Site.DownAsync();

    [TestMethod]
    public async Task EventsPostedWhileTheLinkToTheSiteBrokerIsCutAllArriveOnceItIsBack()
    {
        await using var site = await GeoSite.StartAsync(["tokyo"], startSecondaries: false);
        await using var link = TcpLink.Start(TestServers.RabbitPort); // the WAN between the primary's broker and the site's
        var siteBroker = TestBroker.Site;
        await siteBroker.CreateVhostAsync(site.VirtualHost);
        try
        {
            await LinkAsync(site, $"amqp://{TestServers.RabbitUser}:{TestServers.RabbitPassword}@127.0.0.1:{link.Port}/{Uri.EscapeDataString(site.VirtualHost)}");
            var keysFile = Path.Combine(site.Root, "authorized_keys");
            var siteSettings = siteBroker.Settings(site.VirtualHost);
            siteSettings["Keys:AuthorizedKeysFile"] = keysFile;
            site.StartSecondary("tokyo", siteSettings); // its only broker is the site's
            await site.WaitForSecondaryAsync("tokyo");

            const long id = 31;
            var (repo, before) = await site.CreatePushedRepositoryAsync("ops/site-link", id, "before the cut");
            await site.WaitForMirrorsAsync(repo);

            await link.CutAsync();
            var keys = new Dictionary<long, string>();
            for (var i = 0; i < 20; i++)
            {
                var key = TestKeys.RandomEd25519();
                await site.Hooks.AcceptedAsync(new JsonObject { ["event_name"] = "key_create", ["id"] = 700 + i, ["username"] = "site", ["key"] = key });
                keys[700 + i] = key.Split(' ')[1];
                if (i % 5 == 0)
                {
                    (before, _) = await site.PushWithHookAsync(repo, id, $"during the cut {i}", before);
                }
            }

            // The cut is real: every event is published and waits on the primary's broker, and none reached the site.
            await GeoSite.WaitUntilAsync(async () => await site.QueryPrimaryAsync<long>("SELECT count(*) FROM event_log WHERE published_at IS NULL") == 0,
                TimeSpan.FromSeconds(30), () => "the primary did not publish to its own broker");
            long waiting = 0;
            await GeoSite.WaitUntilAsync(async () => (waiting = (await site.QueueStatsAsync("geo.secondary.tokyo")).Messages) >= 24, TimeSpan.FromSeconds(30),
                () => $"only {waiting} of the 24 events wait on the primary's broker while the link is cut");
            Assert.AreEqual(0, await site.QuerySecondaryAsync<long>("tokyo", "SELECT count(*) FROM ssh_keys"), "a key reached the site across a cut link");

            link.Restore();
            await site.WaitForMirrorsAsync(repo);
            await GeoSite.WaitUntilAsync(async () => KeysIn(keysFile).Count(keys.ContainsValue) == keys.Count, TimeSpan.FromSeconds(90),
                () => $"{KeysIn(keysFile).Count(keys.ContainsValue)} of the {keys.Count} keys posted during the cut reached the site's authorized_keys");
            var lines = KeysIn(keysFile);
            Assert.AreEqual(lines.Count, lines.Distinct().Count(), "a key is written twice in authorized_keys");
            await GeoSite.WaitUntilAsync(async () => (await site.QueueStatsAsync("geo.secondary.tokyo")).Messages == 0, TimeSpan.FromSeconds(30),
                () => "events were left on the primary's broker"); // the management API's figures trail by a moment
        }
        finally
        {
            await siteBroker.DeleteVhostAsync(site.VirtualHost);
        }
    }

    private static async Task LinkAsync(GeoSite site, string upstream)
    {
        await Shell.RunAsync(Path.Combine(TestServers.RepoRoot, "infra", "site-broker"), TestServers.RepoRoot,
            "link", "tokyo", "--vhost", site.VirtualHost, "--upstream", upstream, "--management", $"http://127.0.0.1:{TestBroker.Site.ManagementPorts[0]}");
        await GeoSite.WaitUntilAsync(
            async () => (await Shell.RunAsync(Path.Combine(TestServers.RepoRoot, "infra", "site-broker"), TestServers.RepoRoot, "status", "tokyo", "--vhost", site.VirtualHost))
                .Split('\n', StringSplitOptions.RemoveEmptyEntries).Count(l => l.EndsWith(" running", StringComparison.Ordinal)) == 3,
            TimeSpan.FromSeconds(30), () => "the site broker's shovels did not start");
    }

    /// <summary>The key bodies (base64) of authorized_keys' lines.</summary>
    private static List<string> KeysIn(string file) => File.Exists(file)
        ? File.ReadAllLines(file).Select(l => l.Split(' ')).Where(p => p.Length >= 2).Select(p => p[^1]).ToList()
        : [];
}
