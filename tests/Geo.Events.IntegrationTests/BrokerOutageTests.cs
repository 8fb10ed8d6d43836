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
        var repo = await site.CreateRepositoryAsync("ops/infra");
        const long id = 21;
        var first = await repo.CommitAsync("before the outage");
        await repo.GitAsync("push", "-q", "origin", "main");
        await site.Hooks.AcceptedAsync(Hooks.Push("push", id, repo.PathWithNamespace, "refs/heads/main", Zero, first));
        await site.WaitForMirrorsAsync(repo);

        await TestServers.RabbitCtlAsync("stop_app");
        try
        {
            var before = first;
            for (var i = 0; i < 3; i++)
            {
                var next = await repo.CommitAsync($"during the outage {i}");
                await repo.GitAsync("push", "-q", "origin", "main");
                await site.Hooks.AcceptedAsync(Hooks.Push("push", id, repo.PathWithNamespace, "refs/heads/main", before, next));
                before = next;
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
}
