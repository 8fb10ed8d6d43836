using System.Text.Json;
using Geo.Events.Testing;
using static Geo.Events.Testing.PrimaryRepository;

namespace Geo.Events.IntegrationTests;

/// <summary>
/// The safety net: a destroyed project is kept in the trash and can be restored; a burst of destroys is held by the
/// mass-destruction guard; retention expires what was kept.
/// </summary>
[TestClass]
public sealed class SafetyNetTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [TestMethod]
    public async Task ADestroyedProjectIsKeptInTheTrashAndRestoredWithItsRefsAtItsPath()
    {
        await using var site = await GeoSite.StartAsync(["tokyo"], register: true);
        const long id = 41;
        var (repo, _) = await site.CreatePushedRepositoryAsync("lab/keep", id);
        await repo.GitAsync("tag", "-a", "v1", "-m", "release 1");
        await repo.GitAsync("push", "-q", "origin", "v1");
        await repo.GitAsync("push", "-q", "origin", "main:refs/heads/topic");
        await site.PushWithHookAsync(repo, id, "second", await repo.ShaAsync("main"));
        await site.WaitForMirrorsAsync(repo);
        var refs = await repo.RefsAsync();

        // GitLab deletes the repository, then sends project_destroy.
        Directory.Delete(repo.BarePath, recursive: true);
        await site.Hooks.AcceptedAsync(Hooks.ProjectEvent("project_destroy", id, repo.PathWithNamespace));
        var mirror = site.MirrorPath("tokyo", repo.PathWithNamespace);
        await GeoSite.WaitUntilAsync(() => Task.FromResult(!Path.Exists(mirror)), Timeout, () => "the destroyed project is still readable at its path");
        Assert.AreEqual(0, Directory.GetDirectories(Path.Combine(site.MirrorRoot("tokyo"), "@hashed"), "*.git", SearchOption.AllDirectories).Length, "the mirror's data stayed in @hashed");

        var entry = await WaitForTrashAsync(site, e => e.GetProperty("projectId").GetInt64() == id && e.GetProperty("state").GetString() == "trash");
        Assert.AreEqual("lab/keep", entry.GetProperty("path").GetString());
        Assert.IsTrue(entry.GetProperty("sizeBytes").GetInt64() > 0, entry.ToString());

        // Restore by path: the trash knows it, though geo-primary's events name it too.
        var (code, stdout, stderr) = await site.AdminAsync("trash", "restore", "lab/keep", "--secondary", "tokyo", "--output", "json");
        Assert.AreEqual(0, code, stderr + stdout);
        Assert.IsTrue(GeoSite.SameRefs(refs, await ReadRefsAsync(mirror)), "the restored mirror's refs differ from the destroyed project's");
        await Shell.RunAsync("git", mirror, "fsck", "--strict");
        var clone = Path.Combine(site.Root, "work", "clone-of-restored");
        await Shell.RunAsync("git", site.Root, "clone", "-q", mirror, clone);
        Assert.AreEqual(refs["refs/heads/main"], (await Shell.RunAsync("git", clone, "rev-parse", "HEAD")).Trim());

        // Held while it is recovered: a verification, and a project_destroy delivered again, leave it in place.
        (code, stdout, stderr) = await site.AdminAsync("verify", "tokyo", "--output", "json");
        Assert.AreEqual(0, code, stderr + stdout);
        var again = await site.Hooks.AcceptedAsync(Hooks.ProjectEvent("project_destroy", id, repo.PathWithNamespace));
        await GeoSite.WaitUntilAsync(
            async () => await site.QuerySecondaryAsync<long>("tokyo", "SELECT max_seen_sequence FROM projects WHERE project_id = @id", new { id }) >= again,
            Timeout, () => "the repeated destroy never arrived");
        Assert.IsTrue(GeoSite.SameRefs(refs, await ReadRefsAsync(mirror)), "the held mirror was undone");
        using (var http = new HttpClient { BaseAddress = site.SecondaryUrl("tokyo") })
        {
            http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", GeoSite.MirrorApiToken);
            var freshness = JsonDocument.Parse(await http.GetStringAsync($"/api/v1/mirrors/{id}")).RootElement;
            Assert.AreEqual("restored", freshness.GetProperty("held").GetString(), freshness.ToString());
        }

        // A second restore has nothing left in the trash and says so.
        (code, stdout, stderr) = await site.AdminAsync("trash", "restore", id.ToString(System.Globalization.CultureInfo.InvariantCulture), "--secondary", "tokyo", "--to", "lab/other", "--output", "json");
        Assert.AreEqual(1, code, stderr + stdout);
        StringAssert.Contains(stdout, "project 41", stdout);

        // Released: out of sight again, back in the trash.
        (code, stdout, stderr) = await site.AdminAsync("trash", "release", "41", "--secondary", "tokyo", "--output", "json");
        Assert.AreEqual(0, code, stderr + stdout);
        Assert.IsFalse(Path.Exists(mirror), "the released mirror is still readable");
        await WaitForTrashAsync(site, e => e.GetProperty("projectId").GetInt64() == id && e.GetProperty("state").GetString() == "trash");
    }

    [TestMethod]
    public async Task TheTrashIsPurgedAfterTheRetentionAndAZeroRetentionDeletesAtOnce()
    {
        await using var site = await GeoSite.StartAsync(["tokyo", "berlin"], startSecondaries: false);
        site.StartSecondary("tokyo", new Dictionary<string, string> { ["Secondary:DestroyRetention"] = "00:00:04" });
        site.StartSecondary("berlin", new Dictionary<string, string> { ["Secondary:DestroyRetention"] = "00:00:00" });
        await site.WaitForSecondaryAsync("tokyo");
        await site.WaitForSecondaryAsync("berlin");
        const long id = 42;
        var (repo, _) = await site.CreatePushedRepositoryAsync("lab/short", id);
        await site.WaitForMirrorsAsync(repo);
        await site.Hooks.AcceptedAsync(Hooks.ProjectEvent("project_destroy", id, repo.PathWithNamespace));

        // berlin keeps nothing: gone from its path, from @hashed, and never in a trash.
        await GeoSite.WaitUntilAsync(
            async () => await site.QuerySecondaryAsync<string>("berlin", "SELECT state FROM projects WHERE project_id = @id", new { id }) == "destroyed"
                        && !Path.Exists(site.MirrorPath("berlin", repo.PathWithNamespace))
                        && Directory.GetDirectories(Path.Combine(site.MirrorRoot("berlin"), "@hashed"), "*.git", SearchOption.AllDirectories).Length == 0,
            Timeout, () => "berlin did not destroy the project");
        Assert.IsFalse(Directory.Exists(Path.Combine(site.MirrorRoot("berlin"), "@trash")) && Directory.EnumerateFileSystemEntries(Path.Combine(site.MirrorRoot("berlin"), "@trash")).Any());

        // tokyo keeps it a few seconds, then purges it.
        var trash = Path.Combine(site.MirrorRoot("tokyo"), "@trash");
        await GeoSite.WaitUntilAsync(() => Task.FromResult(Directory.Exists(trash) && Directory.GetDirectories(trash).Length == 1), Timeout, () => "tokyo did not keep the mirror in its trash");
        var kept = Directory.GetDirectories(trash).Single();
        await Shell.RunAsync("git", kept, "fsck", "--strict");
        await GeoSite.WaitUntilAsync(() => Task.FromResult(Directory.GetDirectories(trash).Length == 0), Timeout, () => "tokyo did not purge its trash after the retention");
        Assert.AreEqual(0, Directory.GetDirectories(Path.Combine(site.MirrorRoot("tokyo"), "@hashed"), "*.git", SearchOption.AllDirectories).Length);
    }

    [TestMethod]
    public async Task ABurstOfDestroysIsHeldWhilePushesAndRenamesFlowThenReleasedOnOneSecondaryAndDiscardedOnTheOther()
    {
        string[] sites = ["tokyo", "berlin"];
        var guard = new Dictionary<string, string> { ["Secondary:DestroyGuardCount"] = "2", ["Secondary:DestroyGuardWindow"] = "01:00:00" };
        await using var site = await GeoSite.StartAsync(sites, secondarySettings: guard, register: true);
        var repos = new Dictionary<long, PrimaryRepository>();
        for (long id = 51; id <= 56; id++)
        {
            repos[id] = (await site.CreatePushedRepositoryAsync($"burst/p{id}", id)).Repository;
        }

        foreach (var repo in repos.Values)
        {
            await site.WaitForMirrorsAsync(repo);
        }

        // Two destroys are within the limit and applied; the third trips the guard, and it and the fourth are held.
        foreach (var id in new long[] { 51, 52, 53, 54 })
        {
            Directory.Delete(repos[id].BarePath, recursive: true);
            await site.Hooks.AcceptedAsync(Hooks.ProjectEvent("project_destroy", id, repos[id].PathWithNamespace));
            foreach (var name in sites)
            {
                // One at a time, so which destroys are held does not depend on the order of concurrent deliveries.
                await GeoSite.WaitUntilAsync(
                    async () => await site.QuerySecondaryAsync<bool>(name,
                        "SELECT EXISTS (SELECT 1 FROM projects WHERE project_id = @id AND state = 'destroyed') OR EXISTS (SELECT 1 FROM held_destroys WHERE project_id = @id)", new { id }),
                    Timeout, () => $"{name} did not take the destroy of {id}");
            }
        }

        foreach (var name in sites)
        {
            await GeoSite.WaitUntilAsync(
                async () => await site.QuerySecondaryAsync<long>(name, "SELECT count(*) FROM held_destroys") == 2
                            && !Path.Exists(site.MirrorPath(name, "burst/p51")) && !Path.Exists(site.MirrorPath(name, "burst/p52")),
                Timeout, () => $"{name} did not apply two destroys and hold two");
            Assert.IsTrue(Path.Exists(site.MirrorPath(name, "burst/p53")) && Path.Exists(site.MirrorPath(name, "burst/p54")), $"{name} removed a held project");
        }

        var (code, stdout, stderr) = await site.AdminAsync("status", "--output", "json");
        Assert.AreEqual(5, code, stderr + stdout);
        await GeoSite.WaitUntilAsync(async () =>
        {
            (code, stdout, stderr) = await site.AdminAsync("status", "--output", "json");
            return JsonDocument.Parse(stdout).RootElement.EnumerateArray().All(s => s.GetProperty("verdict").GetString() == "guarded");
        }, Timeout, () => "geo-admin status does not say guarded: " + stdout);
        StringAssert.Contains(stdout, "holds 2 destroys", stdout);
        using (var http = new HttpClient { BaseAddress = site.SecondaryUrl("tokyo") })
        {
            StringAssert.Contains(await http.GetStringAsync("/metrics"), "geo_destroy_guarded 1");
        }

        // Pushes and renames flow meanwhile, a held project's rename too (a hook delivered late).
        var (pushed, _) = await site.PushWithHookAsync(repos[55], 55, "while guarded", await repos[55].ShaAsync("main"));
        var renamed = await repos[56].MoveAsync("burst/renamed56");
        await site.Hooks.AcceptedAsync(Hooks.ProjectEvent("project_rename", 56, renamed.PathWithNamespace, repos[56].PathWithNamespace));
        await site.Hooks.AcceptedAsync(Hooks.ProjectEvent("project_rename", 53, "burst/renamed53", "burst/p53"));
        await site.WaitForMirrorsAsync(repos[55]);
        await site.WaitForMirrorsAsync(renamed);
        foreach (var name in sites)
        {
            await GeoSite.WaitUntilAsync(() => Task.FromResult(Path.Exists(site.MirrorPath(name, "burst/renamed53"))), Timeout, () => $"{name} did not rename the held project");
        }

        // Held destroys are durable: a restart keeps them.
        await site.KillSecondaryAsync("tokyo");
        site.StartSecondary("tokyo", guard);
        await site.WaitForSecondaryAsync("tokyo");
        Assert.AreEqual(2L, await site.QuerySecondaryAsync<long>("tokyo", "SELECT count(*) FROM held_destroys"));

        // tokyo: release applies them, at the paths they have now.
        (code, stdout, stderr) = await site.AdminAsync("guard", "release", "tokyo", "--output", "json");
        Assert.AreEqual(0, code, stderr + stdout);
        Assert.IsFalse(Path.Exists(site.MirrorPath("tokyo", "burst/renamed53")), "release left project 53");
        Assert.IsFalse(Path.Exists(site.MirrorPath("tokyo", "burst/p54")), "release left project 54");
        Assert.AreEqual(pushed, (await ReadRefsAsync(site.MirrorPath("tokyo", "burst/p55")))["refs/heads/main"]);
        Assert.AreEqual(0L, await site.QuerySecondaryAsync<long>("tokyo", "SELECT count(*) FROM held_destroys"));

        // berlin: discard drops them; the mirrors stay, and verification reports them as extra.
        (code, stdout, stderr) = await site.AdminAsync("guard", "discard", "berlin", "--output", "json");
        Assert.AreEqual(0, code, stderr + stdout);
        Assert.IsTrue(Path.Exists(site.MirrorPath("berlin", "burst/renamed53")) && Path.Exists(site.MirrorPath("berlin", "burst/p54")), "discard removed a mirror");
        (code, stdout, stderr) = await site.AdminAsync("verify", "berlin", "--output", "json");
        Assert.AreEqual(0, code, stderr + stdout);
        StringAssert.Contains(stdout, "2 mirrors are extra", stdout);

        await GeoSite.WaitUntilAsync(async () =>
        {
            (code, stdout, stderr) = await site.AdminAsync("status", "--output", "json");
            return JsonDocument.Parse(stdout).RootElement.EnumerateArray().All(s => s.GetProperty("verdict").GetString() == "ok");
        }, Timeout, () => "the secondaries are still not ok: " + stdout);
    }

    [TestMethod]
    public async Task HistoryAForcePushThrewAwayOnThePrimaryStaysHiddenInTheAtticUntilItExpires()
    {
        await using var site = await GeoSite.StartAsync(["tokyo", "berlin"], startSecondaries: false, register: true);
        site.StartSecondary("tokyo");
        site.StartSecondary("berlin", new Dictionary<string, string> { ["Secondary:OverwriteRetention"] = "00:00:06" });
        await site.WaitForSecondaryAsync("tokyo");
        await site.WaitForSecondaryAsync("berlin");
        const long id = 61;
        var (repo, first) = await site.CreatePushedRepositoryAsync("lab/history", id);
        var (lost, _) = await site.PushWithHookAsync(repo, id, "a week of work", first);
        await repo.GitAsync("checkout", "-q", "-b", "feature");
        var feature = await repo.CommitAsync("on a branch that gets deleted");
        await repo.GitAsync("push", "-q", "origin", "feature");
        await site.Hooks.AcceptedAsync(Hooks.Push("push", id, repo.PathWithNamespace, "refs/heads/feature", Zero, feature));
        await repo.GitAsync("checkout", "-q", "main");
        await site.WaitForMirrorsAsync(repo);

        // The mistake: main forced back and rewritten, the branch deleted, and GitLab's housekeeping prunes the lot.
        await repo.GitAsync("reset", "-q", "--hard", first);
        var rewritten = await repo.CommitAsync("rewritten");
        await repo.GitAsync("push", "-q", "-f", "origin", "main");
        await repo.GitAsync("push", "-q", "origin", ":feature");
        await Shell.RunAsync("git", repo.BarePath, "reflog", "expire", "--expire=now", "--all");
        await Shell.RunAsync("git", repo.BarePath, "gc", "-q", "--prune=now");
        Assert.ThrowsExactly<InvalidOperationException>(() => Shell.RunAsync("git", repo.BarePath, "cat-file", "-e", lost).GetAwaiter().GetResult(), "the primary still has the lost commit");
        await site.Hooks.AcceptedAsync(Hooks.Push("push", id, repo.PathWithNamespace, "refs/heads/main", lost, rewritten));
        await site.Hooks.AcceptedAsync(Hooks.Push("push", id, repo.PathWithNamespace, "refs/heads/feature", feature, Zero));
        await site.WaitForMirrorsAsync(repo);

        var mirror = site.MirrorPath("tokyo", repo.PathWithNamespace);
        await Shell.RunAsync("git", mirror, "gc", "-q", "--prune=now"); // the mirror's own housekeeping must not lose it either
        foreach (var sha in new[] { lost, feature })
        {
            await Shell.RunAsync("git", mirror, "cat-file", "-e", sha + "^{commit}");
        }

        var attic = await Shell.RunAsync("git", mirror, "for-each-ref", "--format=%(refname) %(objectname)", "refs/geo-attic/");
        StringAssert.Contains(attic, "/heads/main " + lost, attic);
        StringAssert.Contains(attic, "/heads/feature " + feature, attic);

        // Clients never see it: not advertised by upload-pack, not in a mirror clone, not in the refs checksum.
        var advertised = await Shell.RunAsync("git", site.Root, "ls-remote", "file://" + mirror);
        Assert.IsFalse(advertised.Contains("geo-attic", StringComparison.Ordinal), advertised);
        var clone = Path.Combine(site.Root, "work", "attic-clone.git");
        await Shell.RunAsync("git", site.Root, "clone", "-q", "--mirror", "file://" + mirror, clone);
        Assert.ThrowsExactly<InvalidOperationException>(() => Shell.RunAsync("git", clone, "cat-file", "-e", lost).GetAwaiter().GetResult(), "a clone of the mirror got the hidden commit");
        Assert.AreEqual(Core.Repositories.RefsChecksum.Compute(repo.BarePath), Core.Repositories.RefsChecksum.Compute(mirror));
        var (code, stdout, stderr) = await site.AdminAsync("verify", "tokyo", "--output", "json");
        Assert.AreEqual(0, code, stderr + stdout);
        StringAssert.Contains(stdout, "\"repaired\": 0", stdout);

        // geo-admin lists it and restores it as a new ref, which the next sync keeps.
        JsonElement kept = default;
        await GeoSite.WaitUntilAsync(async () =>
        {
            (code, stdout, stderr) = await site.AdminAsync("attic", "list", "61", "--secondary", "tokyo", "--output", "json");
            var rows = JsonDocument.Parse(stdout).RootElement.EnumerateArray().Where(r => r.GetProperty("sha").GetString() == lost).ToList();
            kept = rows.FirstOrDefault().Clone();
            return rows.Count == 1;
        }, Timeout, () => "geo-admin attic list does not show the lost commit: " + stdout + stderr);
        Assert.AreEqual("refs/heads/main", kept.GetProperty("originalRef").GetString());
        (code, stdout, stderr) = await site.AdminAsync("attic", "restore", "lab/history", kept.GetProperty("ref").GetString()!, "--secondary", "tokyo", "--to", "refs/heads/recovered", "--output", "json");
        Assert.AreEqual(0, code, stderr + stdout);
        var (after, _) = await site.PushWithHookAsync(repo, id, "after the restore", rewritten);
        await site.WaitForMirrorsAsync(repo, "berlin");
        await GeoSite.WaitUntilAsync(
            async () => (await Shell.RunAsync("git", mirror, "rev-parse", "refs/heads/main")).Trim() == after,
            Timeout, () => "tokyo did not fetch the push after the restore");
        Assert.AreEqual(lost, (await Shell.RunAsync("git", mirror, "rev-parse", "refs/heads/recovered")).Trim(), "the restored ref was pruned");
        Assert.AreEqual(Core.Repositories.RefsChecksum.Compute(repo.BarePath), Core.Repositories.RefsChecksum.Compute(mirror), "the held ref counts in the checksum");

        // berlin kept it too, six seconds, then expired it.
        StringAssert.Contains(site.Secondary("berlin").Log(), $"Kept the overwritten tip {lost} of refs/heads/main");
        var berlin = site.MirrorPath("berlin", repo.PathWithNamespace);
        await GeoSite.WaitUntilAsync(
            async () => (await Shell.RunAsync("git", berlin, "for-each-ref", "refs/geo-attic/")).Length == 0
                        && await site.QuerySecondaryAsync<long>("berlin", "SELECT count(*) FROM attic_refs") == 0,
            Timeout, () => "berlin did not expire its attic");
        Assert.IsTrue(await site.QuerySecondaryAsync<long>("tokyo", "SELECT count(*) FROM attic_refs") >= 2);
    }

    [TestMethod]
    public async Task AKillDuringTrashMovesAndPurgesLeavesEveryMirrorWholeInOnePlace()
    {
        var settings = new Dictionary<string, string> { ["Secondary:DestroyRetention"] = "00:00:02" };
        await using var site = await GeoSite.StartAsync(["tokyo"], secondarySettings: settings);
        var seed = Environment.GetEnvironmentVariable("GEO_KILL_SEED") is { } given ? int.Parse(given, System.Globalization.CultureInfo.InvariantCulture) : Random.Shared.Next();
        Console.WriteLine($"GEO_KILL_SEED={seed}");
        var random = new Random(seed);
        var repos = new Dictionary<long, PrimaryRepository>();
        for (long id = 71; id <= 90; id++)
        {
            var (repo, sha) = await site.CreatePushedRepositoryAsync($"kill/p{id}", id);
            for (var i = 0; i < 3; i++)
            {
                (sha, _) = await site.PushWithHookAsync(repo, id, $"commit {i}", sha);
            }

            repos[id] = repo;
        }

        foreach (var repo in repos.Values)
        {
            await site.WaitForMirrorsAsync(repo);
        }

        var root = site.MirrorRoot("tokyo");
        var ids = repos.Keys.ToList();
        for (var round = 0; round < 3; round++)
        {
            // A third of the projects destroyed at once, a kill while they move into the trash or are purged from it.
            foreach (var id in ids.Skip(round * 7).Take(7))
            {
                await site.Hooks.AcceptedAsync(Hooks.ProjectEvent("project_destroy", id, repos[id].PathWithNamespace));
            }

            await Task.Delay(random.Next(0, 2500));
            await site.KillSecondaryAsync("tokyo");
            var trash = Path.Combine(root, "@trash");
            var trashed = Directory.Exists(trash) ? Directory.GetDirectories(trash) : [];
            Console.WriteLine($"round {round}: killed with {trashed.Length} in the trash");
            foreach (var entry in trashed)
            {
                // Whole, with its note: a move into the trash is one rename, a purge renames out of it first.
                await Shell.RunAsync("git", entry, "fsck", "--strict");
                Assert.IsTrue(File.Exists(Path.Combine(entry, "geo-trash.json")), $"{entry} has no note");
            }

            foreach (var (id, repo) in repos)
            {
                var link = site.MirrorPath("tokyo", repo.PathWithNamespace);
                if (Path.Exists(link))
                {
                    await Shell.RunAsync("git", link, "fsck", "--strict"); // a readable path leads to a whole mirror
                }
            }

            site.StartSecondary("tokyo", settings);
            await site.WaitForSecondaryAsync("tokyo");
        }

        // Converged: every destroyed project gone from its path, from @hashed and, after the retention, from the trash.
        await GeoSite.WaitUntilAsync(
            async () => await site.QuerySecondaryAsync<long>("tokyo", "SELECT count(*) FROM projects WHERE state = 'destroyed'") == 20
                        && Directory.GetDirectories(Path.Combine(root, "@hashed"), "*.git", SearchOption.AllDirectories).Length == 0
                        && Directory.GetDirectories(Path.Combine(root, "@trash")).Length == 0,
            TimeSpan.FromSeconds(120), () => "tokyo did not finish the destroys and purges after the kills");
        Assert.IsFalse(Directory.Exists(Path.Combine(root, "kill")), "a readable path of a destroyed project remains");
    }

    /// <summary>Waits until <c>geo-admin trash list</c> shows an entry that matches; returns it.</summary>
    private static async Task<JsonElement> WaitForTrashAsync(GeoSite site, Func<JsonElement, bool> match)
    {
        JsonElement found = default;
        var last = "";
        await GeoSite.WaitUntilAsync(async () =>
        {
            var (code, stdout, stderr) = await site.AdminAsync("trash", "list", "--secondary", "tokyo", "--output", "json");
            last = stdout + stderr;
            Assert.AreEqual(0, code, last);
            foreach (var row in JsonDocument.Parse(stdout).RootElement.EnumerateArray())
            {
                if (match(row))
                {
                    found = row.Clone();
                    return true;
                }
            }

            return false;
        }, Timeout, () => "geo-admin trash list never showed the entry: " + last);
        return found;
    }
}
