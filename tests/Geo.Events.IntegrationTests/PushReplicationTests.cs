using System.Text.Json;
using Geo.Events.Testing;
using static Geo.Events.Testing.PrimaryRepository;

namespace Geo.Events.IntegrationTests;

/// <summary>A push on the primary, announced by a real GitLab system hook over HTTP, reaches every secondary's mirror.</summary>
[TestClass]
public sealed class PushReplicationTests
{
    private static readonly string[] Sites = ["tokyo", "berlin"];

    [TestMethod]
    public async Task NewBranchTagForcePushAndDeletionConvergeOnEverySecondary()
    {
        await using var site = await GeoSite.StartAsync(Sites);
        var repo = await site.CreateRepositoryAsync("platform/api");
        const long id = 7;

        await repo.CommitAsync("first");
        var (main, _) = await site.PushWithHookAsync(repo, id, "second");
        await site.WaitForMirrorsAsync(repo);
        foreach (var name in Sites)
        {
            // A clone of the mirror checks out the primary's default branch.
            var head = await Shell.RunAsync("git", site.MirrorPath(name, repo.PathWithNamespace), "symbolic-ref", "HEAD");
            Assert.AreEqual("refs/heads/main", head.Trim());
        }

        await repo.GitAsync("checkout", "-q", "-b", "feature");
        var feature = await repo.CommitAsync("feature work");
        await repo.GitAsync("push", "-q", "origin", "feature");
        await site.Hooks.AcceptedAsync(Hooks.Push("push", id, repo.PathWithNamespace, "refs/heads/feature", Zero, feature));
        await site.WaitForMirrorsAsync(repo);

        await repo.GitAsync("tag", "-a", "v1.0", "-m", "release", "main");
        await repo.GitAsync("push", "-q", "origin", "v1.0");
        await site.Hooks.AcceptedAsync(Hooks.Push("tag_push", id, repo.PathWithNamespace, "refs/tags/v1.0", Zero, await repo.ShaAsync("v1.0")));
        await site.WaitForMirrorsAsync(repo);

        await repo.GitAsync("checkout", "-q", "main");
        await repo.GitAsync("commit", "-q", "--amend", "-m", "second, rewritten");
        await repo.GitAsync("push", "-q", "--force", "origin", "main");
        var rewritten = await repo.ShaAsync("main");
        await site.Hooks.AcceptedAsync(Hooks.RepositoryUpdate(id, repo.PathWithNamespace, ("refs/heads/main", main, rewritten)));
        await site.WaitForMirrorsAsync(repo);

        await repo.GitAsync("push", "-q", "origin", "--delete", "feature");
        await site.Hooks.AcceptedAsync(Hooks.Push("push", id, repo.PathWithNamespace, "refs/heads/feature", feature, Zero));
        await site.WaitForMirrorsAsync(repo);

        foreach (var name in Sites)
        {
            var mirror = site.MirrorPath(name, repo.PathWithNamespace);
            var refs = await ReadRefsAsync(mirror);
            Assert.IsFalse(refs.ContainsKey("refs/heads/feature"), $"{name} still has the deleted branch");
            Assert.AreEqual(rewritten, refs["refs/heads/main"], $"{name} did not follow the force push");
            await Shell.RunAsync("git", mirror, "fsck", "--strict");
            Assert.AreEqual("synced", await site.QuerySecondaryAsync<string>(name, "SELECT state FROM projects WHERE project_id = @id", new { id }));
        }
    }

    [TestMethod]
    public async Task TheSameDeliveryPostedTwiceIsOneEvent()
    {
        await using var site = await GeoSite.StartAsync(Sites, startSecondaries: false);
        var repo = await site.CreateRepositoryAsync("platform/web");
        var sha = await repo.CommitAndPushAsync("only");
        var payload = Hooks.Push("push", 8, repo.PathWithNamespace, "refs/heads/main", Zero, sha);
        var delivery = Guid.NewGuid().ToString();

        using var first = await site.Hooks.PostAsync(payload, delivery);
        using var second = await site.Hooks.PostAsync(payload, delivery);

        Assert.AreEqual(System.Net.HttpStatusCode.Accepted, first.StatusCode);
        Assert.AreEqual(System.Net.HttpStatusCode.Accepted, second.StatusCode);
        var a = JsonDocument.Parse(await first.Content.ReadAsStringAsync()).RootElement;
        var b = JsonDocument.Parse(await second.Content.ReadAsStringAsync()).RootElement;
        Assert.AreEqual(a.GetProperty("id").GetInt64(), b.GetProperty("id").GetInt64());
        Assert.IsFalse(a.GetProperty("duplicate").GetBoolean());
        Assert.IsTrue(b.GetProperty("duplicate").GetBoolean());
        Assert.AreEqual(1L, await site.EventCountAsync());

        // A different delivery of the same change is a new event.
        await site.Hooks.AcceptedAsync(payload);
        Assert.AreEqual(2L, await site.EventCountAsync());
    }

    [TestMethod]
    public async Task ASecondaryThatWasDownCatchesUpFromItsQueue()
    {
        await using var site = await GeoSite.StartAsync(Sites);
        const long id = 9;
        var (repo, first) = await site.CreatePushedRepositoryAsync("platform/cli", id, "one");
        await site.WaitForMirrorsAsync(repo);

        await site.KillSecondaryAsync("berlin");
        var before = first;
        for (var i = 0; i < 5; i++)
        {
            (before, _) = await site.PushWithHookAsync(repo, id, $"while berlin is down {i}", before);
        }

        await site.WaitForMirrorsAsync(repo, "tokyo");
        var stale = await ReadRefsAsync(site.MirrorPath("berlin", repo.PathWithNamespace));
        Assert.AreEqual(first, stale["refs/heads/main"], "berlin moved while it was down");

        site.StartSecondary("berlin");
        await site.WaitForMirrorsAsync(repo, "berlin");
    }

    [TestMethod]
    public async Task ASecondaryThatNeverRanStillGetsEveryEvent()
    {
        // geo-primary declares each configured secondary's queue at start, so nothing is routed to nobody.
        await using var site = await GeoSite.StartAsync(Sites, startSecondaries: false);
        var (repo, _) = await site.CreatePushedRepositoryAsync("platform/docs", 10, "docs");

        site.StartSecondary("tokyo");
        site.StartSecondary("berlin");
        await site.WaitForMirrorsAsync(repo);
    }

    [TestMethod]
    public async Task ABurstOfPushesToOneRepositoryIsCoalescedIntoFewFetches()
    {
        await using var site = await GeoSite.StartAsync(["tokyo"], startSecondaries: false);
        var repo = await site.CreateRepositoryAsync("platform/busy");
        const long id = 11;
        const int pushes = 30;
        var before = Zero;
        for (var i = 0; i < pushes; i++)
        {
            (before, _) = await site.PushWithHookAsync(repo, id, $"burst {i}", before);
        }

        site.StartSecondary("tokyo");
        await site.WaitForMirrorsAsync(repo);
        await GeoSite.WaitUntilAsync(
            async () => await site.QuerySecondaryAsync<long>("tokyo", "SELECT last_synced_sequence FROM projects WHERE project_id = @id", new { id }) >= pushes,
            TimeSpan.FromSeconds(30), () => "the registry never recorded the last event as covered");

        var fetches = await site.QuerySecondaryAsync<long>("tokyo", "SELECT sync_count FROM projects WHERE project_id = @id", new { id });
        Assert.IsTrue(fetches <= 3, $"{pushes} queued push events cost {fetches} syncs; coalescing should make that at most 3");
    }
}
