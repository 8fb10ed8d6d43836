using Geo.Events.Testing;
using static Geo.Events.Testing.PrimaryRepository;

namespace Geo.Events.IntegrationTests;

/// <summary>The outbox: while RabbitMQ is down, hooks are still accepted, and they are delivered when it returns.</summary>
[TestClass]
public sealed class BrokerOutageTests
{
    [TestMethod]
    public async Task HooksAcceptedWhileRabbitMqIsStoppedAreDeliveredAfterItIsBack()
    {
        await using var site = await GeoSite.StartAsync(["tokyo", "berlin"]);
        const long id = 21;
        var (repo, first) = await site.CreatePushedRepositoryAsync("ops/infra", id, "before the outage");
        await site.WaitForMirrorsAsync(repo);

        await TestServers.RabbitCtlAsync("stop_app");
        try
        {
            var before = first;
            for (var i = 0; i < 3; i++)
            {
                (before, _) = await site.PushWithHookAsync(repo, id, $"during the outage {i}", before);
            }

            await repo.GitAsync("tag", "outage-tag");
            await repo.GitAsync("push", "-q", "origin", "outage-tag");
            await site.Hooks.AcceptedAsync(Hooks.Push("tag_push", id, repo.PathWithNamespace, "refs/tags/outage-tag", Zero, before));
            Assert.AreEqual(5L, await site.EventCountAsync(), "every 202 must be a committed event");
        }
        finally
        {
            await TestServers.RabbitCtlAsync("start_app");
            await TestServers.RabbitCtlAsync("await_startup");
        }

        await site.WaitForMirrorsAsync(repo);
    }

    /// <summary>
    /// geo-primary SIGKILLed at random moments while key hooks stream in (between an outbox commit and its
    /// publish confirm, among others) and RabbitMQ restarted once: every hook that got its 202 is applied.
    /// </summary>
    [TestMethod]
    public async Task EveryAcceptedEventIsAppliedThroughPrimaryKillsAndABrokerRestart()
    {
        await using var site = await GeoSite.StartAsync(["tokyo"]);
        var accepted = new System.Collections.Concurrent.ConcurrentBag<long>();
        var refused = 0;
        using var stop = new CancellationTokenSource();
        var load = Task.Run(async () =>
        {
            for (var id = 1L; !stop.IsCancellationRequested; id++)
            {
                try
                {
                    using var response = await site.Hooks.PostAsync(new System.Text.Json.Nodes.JsonObject
                    {
                        ["event_name"] = "key_create",
                        ["id"] = id,
                        ["username"] = $"u{id}",
                        ["key"] = TestKeys.RandomEd25519(),
                    });
                    if (response.StatusCode == System.Net.HttpStatusCode.Accepted)
                    {
                        accepted.Add(id);
                    }
                    else
                    {
                        Interlocked.Increment(ref refused);
                    }
                }
                catch (HttpRequestException)
                {
                    Interlocked.Increment(ref refused); // geo-primary is down: GitLab would log this delivery as failed
                    await Task.Delay(50);
                }
            }
        });

        for (var round = 0; round < 3; round++)
        {
            await Task.Delay(Random.Shared.Next(300, 1200));
            await site.KillPrimaryAsync();
            await site.StartPrimaryAsync();
        }

        await TestServers.RabbitCtlAsync("stop_app");
        await Task.Delay(1000);
        await TestServers.RabbitCtlAsync("start_app");
        await TestServers.RabbitCtlAsync("await_startup");
        await Task.Delay(1000);
        await stop.CancelAsync();
        await load;

        var expected = accepted.Order().ToList();
        Assert.IsTrue(expected.Count > 20, $"only {expected.Count} hooks were accepted");
        await GeoSite.WaitUntilAsync(
            async () => await site.QuerySecondaryAsync<long>("tokyo", "SELECT count(*) FROM ssh_keys WHERE key_id = ANY(@ids)", new { ids = expected.ToArray() }) == expected.Count,
            TimeSpan.FromSeconds(120), () => $"not every one of the {expected.Count} accepted key events was applied");
        await GeoSite.WaitUntilAsync(
            async () => await site.QueryPrimaryAsync<long>("SELECT count(*) FROM event_log WHERE published_at IS NULL") == 0,
            TimeSpan.FromSeconds(30), () => "an accepted event was never marked published");
        Console.WriteLine($"primary kills: 3 SIGKILLs and a broker restart, {expected.Count} events accepted and applied, {refused} refused while down");
    }
}
