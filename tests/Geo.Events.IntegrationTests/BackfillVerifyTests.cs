using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Geo.Events.Testing;
using static Geo.Events.Testing.PrimaryRepository;

namespace Geo.Events.IntegrationTests;

/// <summary>A new secondary backfills what the primary has; verification repairs what no hook announced; selective sync.</summary>
[TestClass]
public sealed class BackfillVerifyTests
{
    [TestMethod]
    public async Task ANewSecondaryBackfillsEverythingAndVerifyRepairsAPushThatHadNoHook()
    {
        await using var site = await GeoSite.StartAsync(["madrid", "rome"], startSecondaries: false, register: true);

        // Projects that existed before any secondary: known to geo-primary through their events only.
        var repos = new List<PrimaryRepository>();
        for (var i = 1; i <= 4; i++)
        {
            var (repo, _) = await site.CreatePushedRepositoryAsync(i % 2 == 0 ? $"alpha/app{i}" : $"beta/app{i}", 100 + i, $"commit {i}");
            repos.Add(repo);
        }

        // And one in GitLab's hashed storage that never had an event: its folder name gives the id, its config the path.
        var hashedName = Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes("777")));
        var hashed = await site.CreateRepositoryAsync($"@hashed/{hashedName[..2]}/{hashedName[2..4]}/{hashedName}");
        await Shell.RunAsync("git", hashed.BarePath, "config", "gitlab.fullpath", "alpha/hashed-only");
        await hashed.CommitAndPushAsync("hashed");
        // Secondaries fetch by path (GitLab's HTTP routes do that for hashed storage); the test's file transport needs a link for it.
        Directory.CreateDirectory(Path.Combine(site.StorageRoot, "alpha"));
        File.CreateSymbolicLink(Path.Combine(site.StorageRoot, "alpha", "hashed-only.git"), hashed.BarePath);

        site.StartSecondary("madrid");
        site.StartSecondary("rome", new Dictionary<string, string> { ["Secondary:Namespaces:0"] = "alpha" });
        await site.WaitForSecondaryAsync("madrid");
        await site.WaitForSecondaryAsync("rome");

        // First registration starts a backfill by itself.
        foreach (var repo in repos)
        {
            await site.WaitForMirrorsAsync(repo, repo.PathWithNamespace.StartsWith("alpha/", StringComparison.Ordinal) ? ["madrid", "rome"] : ["madrid"]);
        }

        foreach (var name in new[] { "madrid", "rome" })
        {
            await GeoSite.WaitUntilAsync(
                async () => GeoSite.SameRefs(await hashed.RefsAsync(), await ReadRefsAsync(site.MirrorPath(name, "alpha/hashed-only"))),
                TimeSpan.FromSeconds(60), () => $"{name} did not backfill the hashed-storage project");
            Assert.AreEqual(777L, await site.QuerySecondaryAsync<long>(name, "SELECT project_id FROM projects WHERE path_with_namespace = 'alpha/hashed-only'"));
        }

        Assert.IsFalse(Path.Exists(site.MirrorPath("rome", "beta/app1")), "rome mirrors only the alpha namespace");

        // A push GitLab never announced (system hooks are not retried): only verification can see it.
        var unannounced = repos[0];
        var missed = await unannounced.CommitAndPushAsync("no hook for this one");
        var (code, stdout, stderr) = await site.AdminAsync("verify", "madrid", "--output", "json");
        Assert.AreEqual(0, code, stderr + stdout);
        var run = JsonDocument.Parse(stdout).RootElement.EnumerateArray().Single();
        Assert.AreEqual("finished", run.GetProperty("state").GetString());
        Assert.AreEqual(5, run.GetProperty("done").GetInt64(), stdout);
        Assert.AreEqual(1, run.GetProperty("repaired").GetInt64(), stdout);
        Assert.AreEqual(0, run.GetProperty("failed").GetInt64(), stdout);
        Assert.AreEqual(missed, (await ReadRefsAsync(site.MirrorPath("madrid", unannounced.PathWithNamespace)))["refs/heads/main"]);
        Assert.AreEqual("repaired", await site.QuerySecondaryAsync<string>("madrid", "SELECT verification_state FROM projects WHERE project_id = 101"));

        // resync by path, on every registered secondary that mirrors it.
        (code, stdout, stderr) = await site.AdminAsync("resync", "alpha/app2", "--output", "json");
        Assert.AreEqual(0, code, stderr + stdout);
        Assert.AreEqual(2, JsonDocument.Parse(stdout).RootElement.GetArrayLength());

        // Selective sync applies to events too: a push to beta reaches madrid, not rome.
        var late = await site.CreateRepositoryAsync("beta/late");
        await site.Hooks.AcceptedAsync(Hooks.Push("push", 200, late.PathWithNamespace, "refs/heads/main", Zero, await late.CommitAsync("late")));
        await late.GitAsync("push", "-q", "origin", "main");
        await site.Hooks.AcceptedAsync(Hooks.Push("push", 200, late.PathWithNamespace, "refs/heads/main", Zero, await late.ShaAsync("main")));
        await site.WaitForMirrorsAsync(late, "madrid");
        Assert.IsFalse(Path.Exists(site.MirrorPath("rome", late.PathWithNamespace)));

        (code, _, stderr) = await site.AdminAsync("verify", "nowhere");
        Assert.AreEqual(3, code, stderr);
    }

    [TestMethod]
    public async Task ABackfillKilledHalfwayResumesWhereItStoppedAndFetchesEachProjectOnce()
    {
        await using var site = await GeoSite.StartAsync(["vienna"], startSecondaries: false, register: true);
        const int count = 40;
        var repos = new List<PrimaryRepository>();
        for (var i = 1; i <= count; i++)
        {
            var (repo, _) = await site.CreatePushedRepositoryAsync($"bulk/p{i:00}", i, $"commit {i}");
            repos.Add(repo);
        }

        // One fetch at a time, so the kill lands mid-run.
        var slow = new Dictionary<string, string> { ["Secondary:ConcurrentSyncs"] = "1" };
        site.StartSecondary("vienna", slow);
        await site.WaitForSecondaryAsync("vienna");
        await GeoSite.WaitUntilAsync(
            async () => await site.QuerySecondaryAsync<long>("vienna", "SELECT count(*) FROM projects WHERE state = 'synced'") >= 5,
            TimeSpan.FromSeconds(60), () => "the backfill never started");
        await site.KillSecondaryAsync("vienna");
        var before = await site.QuerySecondaryAsync<long>("vienna", "SELECT count(*) FROM projects WHERE state = 'synced'");
        Assert.IsTrue(before < count, $"the backfill finished ({before} projects) before it could be interrupted");

        site.StartSecondary("vienna", slow);
        await GeoSite.WaitUntilAsync(
            async () => await site.QuerySecondaryAsync<string>("vienna", "SELECT state FROM reconcile_runs WHERE kind = 'backfill'") == "finished",
            TimeSpan.FromSeconds(120), () => "the backfill did not resume and finish");

        foreach (var repo in repos)
        {
            Assert.IsTrue(GeoSite.SameRefs(await repo.RefsAsync(), await ReadRefsAsync(site.MirrorPath("vienna", repo.PathWithNamespace))), repo.PathWithNamespace);
        }

        Assert.AreEqual(1L, await site.QuerySecondaryAsync<long>("vienna", "SELECT count(*) FROM reconcile_runs"), "the restart resumed the run instead of starting another");
        Assert.AreEqual(count, await site.QuerySecondaryAsync<int>("vienna", "SELECT matched + repaired FROM reconcile_runs"));
        Assert.AreEqual(1L, await site.QuerySecondaryAsync<long>("vienna", "SELECT max(sync_count) FROM projects"), "a project was fetched twice");
    }
}
