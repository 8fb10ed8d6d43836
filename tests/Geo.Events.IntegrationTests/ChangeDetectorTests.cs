using Geo.Events.Contracts;
using Geo.Events.Core.Repositories;
using Geo.Events.Testing;

namespace Geo.Events.IntegrationTests;

/// <summary>
/// geo-primary's repository change detector over a real storage layout (hashed and legacy), with real git
/// pushes and real processes: what GitLab announces with no hook still reaches every secondary.
/// </summary>
[TestClass]
public sealed class ChangeDetectorTests
{
    private static readonly string[] Sites = ["tokyo", "berlin"];
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    private static readonly Dictionary<string, string> Detector = new()
    {
        ["Primary:RepositoryScanInterval"] = "00:00:01",
        ["Primary:RepositoryHookGrace"] = "00:00:00.500",
    };

    /// <summary>Two secondaries and geo-primary with its detector at a 1 s interval (plus <paramref name="settings"/>).</summary>
    private static Task<GeoSite> StartAsync(bool startSecondaries = true, bool register = false, IReadOnlyDictionary<string, string>? settings = null) =>
        GeoSite.StartAsync(Sites, startSecondaries, register: register,
            primarySettings: settings is null ? Detector : new Dictionary<string, string>(Detector.Concat(settings)));

    [TestMethod]
    public async Task AWikiPushAndAPushWhoseHookWasLostReachEverySecondary()
    {
        await using var site = await StartAsync();
        const long id = 21;
        var project = await site.CreateHashedRepositoryAsync("docs/handbook", id);
        await site.PushWithHookAsync(project, id, "code");
        await site.WaitForMirrorsAsync(project);

        // A git push to the wiki: GitLab records activity, sends no hook.
        var wiki = await site.CreateHashedRepositoryAsync("docs/handbook", id, wiki: true);
        await wiki.CommitAndPushAsync("home page");
        await site.WaitForMirrorsAsync(wiki); // <root>/docs/handbook.wiki.git
        await wiki.CommitAndPushAsync("second page");
        await site.WaitForMirrorsAsync(wiki);

        // A push whose hook never arrived, to the hashed project and to a legacy one.
        await project.CommitAndPushAsync("lost hook");
        await site.WaitForMirrorsAsync(project);
        var (legacy, _) = await site.CreatePushedRepositoryAsync("platform/legacy", 22);
        await site.WaitForMirrorsAsync(legacy);
        await legacy.CommitAndPushAsync("lost hook too");
        await site.WaitForMirrorsAsync(legacy);

        foreach (var name in Sites)
        {
            Assert.AreEqual(2L, await site.QuerySecondaryAsync<long>(name, "SELECT count(*) FROM projects WHERE project_id = @id AND state = 'synced'", new { id }));
        }
    }

    [TestMethod]
    public async Task AForkOrImportFilledAfterItsCreateHookAndAProjectWithNoHookAtAllAreMirrored()
    {
        await using var site = await StartAsync();

        // Fork: project_create arrives while the repository is empty; GitLab fills it afterwards, with no hook.
        const long fork = 31;
        var forked = await site.CreateHashedRepositoryAsync("team/fork", fork);
        await site.Hooks.AcceptedAsync(Hooks.ProjectEvent("project_create", fork, forked.PathWithNamespace));
        await PassesAsync(site, 2);
        await forked.CommitAsync("upstream history");
        await forked.GitAsync("branch", "feature");
        await forked.GitAsync("push", "-q", "origin", "main", "feature");
        await site.WaitForMirrorsAsync(forked);

        // Import into a new project GitLab never announced (its hook was lost): found by its hashed folder.
        const long import = 32;
        var imported = await site.CreateHashedRepositoryAsync("team/imported", import);
        await imported.CommitAndPushAsync("imported history");
        await imported.GitAsync("tag", "v1", "main");
        await imported.GitAsync("push", "-q", "origin", "v1");
        await site.WaitForMirrorsAsync(imported);
    }

    [TestMethod]
    public async Task ADefaultBranchChangeAndAGroupTransferReachEverySecondary()
    {
        await using var site = await StartAsync();
        const long id = 41;
        var repo = await site.CreateHashedRepositoryAsync("platform/api", id);
        await site.PushWithHookAsync(repo, id, "first");
        await repo.GitAsync("checkout", "-q", "-b", "develop");
        await repo.CommitAsync("develop work");
        await repo.GitAsync("push", "-q", "origin", "develop");
        await site.WaitForMirrorsAsync(repo);

        // The default branch changes in GitLab's settings: HEAD moves, no ref does, no push hook is sent.
        await Shell.RunAsync("git", repo.BarePath, "symbolic-ref", "HEAD", "refs/heads/develop");
        await OnEverySecondaryAsync(async name => await HeadAsync(site.MirrorPath(name, repo.PathWithNamespace)) == "refs/heads/develop",
            "the mirror's HEAD did not follow the primary's");

        // A group transfer: GitLab rewrites gitlab.fullpath and sends no hook for the projects inside.
        var moved = await repo.TransferAsync("infra/platform/api");
        await OnEverySecondaryAsync(name => Directory.Exists(site.MirrorPath(name, moved.PathWithNamespace)) && !Path.Exists(site.MirrorPath(name, repo.PathWithNamespace)),
            "the mirror did not move with the group");

        await site.WaitForMirrorsAsync(moved);
        Assert.AreEqual("refs/heads/develop", await HeadAsync(site.MirrorPath(Sites[0], moved.PathWithNamespace)));
    }

    [TestMethod]
    public async Task HookedPushesAreNotAnnouncedAgain()
    {
        await using var site = await StartAsync();
        const long id = 51;
        var repo = await site.CreateHashedRepositoryAsync("platform/hooked", id);
        var (sha, _) = await site.PushWithHookAsync(repo, id, "first");
        for (var i = 0; i < 3; i++)
        {
            (sha, _) = await site.PushWithHookAsync(repo, id, $"push {i}", before: sha);
        }

        await site.WaitForMirrorsAsync(repo);
        await PassesAsync(site, 3);
        Assert.AreEqual(0L, await DetectorEventsAsync(site, id), "the detector announced pushes their hooks had announced");

        // The barrier that shows the detector was looking: a push without a hook is announced.
        await repo.CommitAndPushAsync("no hook");
        await site.WaitForMirrorsAsync(repo);
        Assert.AreEqual(1L, await DetectorEventsAsync(site, id));
    }

    [TestMethod]
    public async Task AChangeMadeWhileGeoPrimaryWasKilledIsAnnouncedOnceItIsBack()
    {
        await using var site = await StartAsync();
        const long id = 61;
        var repo = await site.CreateHashedRepositoryAsync("platform/crash", id);
        await site.PushWithHookAsync(repo, id, "first");
        await site.WaitForMirrorsAsync(repo);
        await PassesAsync(site, 2);
        // Before the kill the detector may have announced the first push too, when its hook came later than the grace
        // (a loaded machine): only what it announces after the restart is counted.
        var before = await DetectorEventsAsync(site, id);

        await site.KillPrimaryAsync(); // SIGKILL
        await repo.CommitAndPushAsync("while geo-primary was down");
        var wiki = await site.CreateHashedRepositoryAsync("platform/crash", id, wiki: true);
        await wiki.CommitAndPushAsync("wiki while geo-primary was down");
        await site.StartPrimaryAsync();

        await WaitForMirrorsAsync(site, repo, wiki);
        await PassesAsync(site, 3);
        Assert.AreEqual(before + 2, await DetectorEventsAsync(site, id), "each change is announced once");
    }

    [TestMethod]
    public async Task ARepositoryBornWhileGeoPrimaryWasDownIsAnnouncedEvenWhenTheStorageWasEmptyBefore()
    {
        // The first pass over a storage records without announcing; that it was done must be remembered, not guessed
        // from an empty table, or the first repository of a new GitLab, made while geo-primary was down, is never mirrored.
        await using var site = await StartAsync();
        await PassesAsync(site, 2);

        await site.KillPrimaryAsync(); // SIGKILL
        const long id = 71;
        var repo = await site.CreateHashedRepositoryAsync("platform/born-offline", id);
        await repo.CommitAndPushAsync("while geo-primary was down, no hook");
        await site.StartPrimaryAsync();

        await site.WaitForMirrorsAsync(repo);
        Assert.AreEqual(1L, await DetectorEventsAsync(site, id));
    }

    [TestMethod]
    public async Task APlantedSymbolicLinkIsNotFollowedAndAnUnreadableRepositoryDoesNotStopThePass()
    {
        await using var site = await StartAsync();
        var outside = Path.Combine(site.Root, "outside");

        // Repositories outside the storage, reached only through links planted in it.
        const long linked = 71;
        var elsewhere = await PrimaryRepository.CreateHashedAsync(outside, linked, "secret/repo", Path.Combine(site.Root, "work-outside"));
        await elsewhere.CommitAndPushAsync("outside the storage");
        var hashedLink = Path.GetRelativePath(outside, elsewhere.BarePath);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(site.StorageRoot, hashedLink))!);
        File.CreateSymbolicLink(Path.Combine(site.StorageRoot, hashedLink), elsewhere.BarePath);
        Directory.CreateDirectory(Path.Combine(outside, "legacy", "repo.git"));
        await Shell.RunAsync("git", Path.Combine(outside, "legacy", "repo.git"), "init", "-q", "--bare");
        File.CreateSymbolicLink(Path.Combine(site.StorageRoot, "legacy"), Path.Combine(outside, "legacy"));

        // A repository whose config git cannot parse, moved into the storage in one rename.
        const long broken = 72;
        var bad = await PrimaryRepository.CreateHashedAsync(Path.Combine(site.Root, "staging"), broken, "platform/broken", Path.Combine(site.Root, "work-staging"));
        await bad.CommitAndPushAsync("unreadable");
        await File.WriteAllTextAsync(Path.Combine(bad.BarePath, "config"), "[core\n\tbare = true\n[gitlab\n");
        var badInStorage = Path.Combine(site.StorageRoot, Path.GetRelativePath(Path.Combine(site.Root, "staging"), bad.BarePath));
        Directory.CreateDirectory(Path.GetDirectoryName(badInStorage)!);
        Directory.Move(bad.BarePath, badInStorage);

        // The pass goes on: a hookless push elsewhere still arrives.
        const long good = 73;
        var repo = await site.CreateHashedRepositoryAsync("platform/good", good);
        await repo.CommitAndPushAsync("no hook");
        await site.WaitForMirrorsAsync(repo);
        await PassesAsync(site, 2);

        var metrics = await site.Http.GetStringAsync("/metrics");
        Assert.AreEqual(1, ObservabilityTests.Metric(metrics, "geo_repository_scan_unreadable"));
        StringAssert.Contains(site.Primary.Log(), Path.GetRelativePath(site.StorageRoot, badInStorage) + " cannot be read", StringComparison.Ordinal);
        Assert.AreEqual(0L, await DetectorEventsAsync(site, linked), "a linked repository was announced");
        Assert.AreEqual(0L, await DetectorEventsAsync(site, broken));
        Assert.AreEqual(0L, await site.QueryPrimaryAsync<long>("SELECT count(*) FROM repository_scan WHERE project_id = @linked OR disk_path LIKE 'legacy/%'", new { linked }));
        Assert.IsFalse(Path.Exists(site.MirrorPath(Sites[0], "secret/repo")));
    }

    [TestMethod]
    public async Task ASnippetAndADesignRepositoryReachEverySecondaryAndAProjectDestroyTakesItsWikiAndDesignsAlong()
    {
        await using var site = await StartAsync();

        // One owner id for a project, a snippet and a group: three owners whose repositories must never be confused.
        const long id = 81;
        var project = await site.CreateHashedRepositoryAsync("team/app", id);
        await site.PushWithHookAsync(project, id, "code");
        var wiki = await site.CreateHashedRepositoryAsync("team/app", id, wiki: true);
        await wiki.CommitAndPushAsync("home page");

        // Design management writes its own repository; GitLab sends no hook for it.
        var design = await site.CreateStoredRepositoryAsync(RepositoryKind.Design, id, "team/app.design");
        await design.CommitAndPushAsync("login screen mock-up");

        // A personal snippet, created then changed: no hook either time.
        var snippet = await site.CreateStoredRepositoryAsync(RepositoryKind.Snippet, id, $"snippets/{id}");
        await snippet.CommitAndPushAsync("snippet v1");
        await site.WaitForMirrorsAsync(snippet); // <root>/@snippets/81.git
        await snippet.CommitAndPushAsync("snippet v2");

        await WaitForMirrorsAsync(site, design, snippet, wiki); // <root>/team/app.design.git
        foreach (var name in Sites)
        {
            Assert.IsTrue(Directory.Exists(Path.Combine(site.MirrorRoot(name), RepositoryLayout.HashedPath(RepositoryKind.Snippet, id))), "the snippet is stored by its id");
            Assert.AreEqual(3L, await site.QuerySecondaryAsync<long>(name, "SELECT count(*) FROM projects WHERE project_id = @id AND kind IN (1, 2, 3) AND state = 'synced'", new { id }));
        }

        // project_destroy: the project's repository, wiki and design repository go; the snippet with the same id stays.
        await site.Hooks.AcceptedAsync(Hooks.ProjectEvent("project_destroy", id, project.PathWithNamespace));
        await OnEverySecondaryAsync(name => new[] { "team/app", "team/app.wiki", "team/app.design" }.All(p => !Path.Exists(site.MirrorPath(name, p)))
                                            && !Directory.Exists(Path.Combine(site.MirrorRoot(name), RepositoryLayout.HashedPath(RepositoryKind.Design, id))),
            "the project's mirrors were not all removed");
        foreach (var name in Sites)
        {
            Assert.AreEqual(3L, await site.QuerySecondaryAsync<long>(name, "SELECT count(*) FROM projects WHERE project_id = @id AND kind IN (0, 1, 2) AND state = 'destroyed'", new { id }));
        }

        await site.WaitForMirrorsAsync(snippet);
    }

    [TestMethod]
    public async Task AGroupWikiIsMirroredMovesWithItsGroupWithoutAHookAndIsRemovedWithIt()
    {
        await using var site = await StartAsync();
        const long id = 91;
        var project = await site.CreateHashedRepositoryAsync("guild/tools", id);
        await site.PushWithHookAsync(project, id, "code");

        // A group wiki, created and pushed to: no hook.
        var wiki = await site.CreateStoredRepositoryAsync(RepositoryKind.GroupWiki, id, "guild.wiki");
        await wiki.CommitAndPushAsync("group home");
        await site.WaitForMirrorsAsync(wiki); // <root>/guild.wiki.git
        await wiki.CommitAndPushAsync("group rules");
        await WaitForMirrorsAsync(site, wiki, project);

        // The group is renamed, or transferred, and no hook arrives: the group wiki's gitlab.fullpath shows it, and the
        // group's wiki and projects move on every secondary.
        var moved = await wiki.TransferAsync("order.wiki");
        await OnEverySecondaryAsync(name => Directory.Exists(site.MirrorPath(name, "order.wiki")) && !Path.Exists(site.MirrorPath(name, "guild.wiki"))
                                            && Directory.Exists(site.MirrorPath(name, "order/tools")) && !Path.Exists(site.MirrorPath(name, "guild/tools")),
            "the group's wiki and project did not move with it");

        await site.WaitForMirrorsAsync(moved);

        // group_destroy: its wiki goes (the project with the group's id stays: its own project_destroy would say otherwise).
        await site.Hooks.AcceptedAsync(Hooks.GroupDestroy(id, "order"));
        await OnEverySecondaryAsync(name => !Path.Exists(site.MirrorPath(name, "order.wiki"))
                                            && !Directory.Exists(Path.Combine(site.MirrorRoot(name), RepositoryLayout.HashedPath(RepositoryKind.GroupWiki, id))),
            "the group wiki was not removed");
        foreach (var name in Sites)
        {
            Assert.IsTrue(Directory.Exists(site.MirrorPath(name, "order/tools")), "the project with the group's id was removed too");
        }
    }

    [TestMethod]
    public async Task AStaleSnippetAndGroupWikiMirrorShowInTheStatusAndVerificationRepairsThem()
    {
        await using var site = await StartAsync(register: true); // status and verification go through the registration
        var snippet = await site.CreateStoredRepositoryAsync(RepositoryKind.Snippet, 111, "snippets/111");
        await snippet.CommitAndPushAsync("snippet v1");
        var wiki = await site.CreateStoredRepositoryAsync(RepositoryKind.GroupWiki, 112, "crew.wiki");
        await wiki.CommitAndPushAsync("wiki v1");
        await WaitForMirrorsAsync(site, snippet, wiki);
        await WaitForDiffersAsync(site, counts => counts.Values.All(c => c == 0));

        // The primary's git server hands out an old copy of both (a lagging replica behind a load balancer, say) while
        // the detector sees the new refs in the storage: every secondary fetches, and its mirror stays behind.
        var links = new List<(string Link, string Real)>();
        foreach (var repo in new[] { snippet, wiki })
        {
            var old = Path.Combine(site.Root, "old-copies", repo.PathWithNamespace + ".git");
            repo.CopyBareTo(old);
            var link = Path.Combine(site.StorageRoot, repo.PathWithNamespace + ".git");
            File.Delete(link);
            File.CreateSymbolicLink(link, old);
            links.Add((link, repo.BarePath));
            await repo.CommitAndPushAsync("v2, which the git server does not serve yet");
        }

        await WaitForDiffersAsync(site, counts => counts["snippet"] == 1 && counts["group_wiki"] == 1 && counts["project"] == 0);
        foreach (var name in Sites)
        {
            var metrics = await new HttpClient().GetStringAsync(new Uri(site.SecondaryUrl(name), "/metrics"));
            Assert.AreEqual(1, ObservabilityTests.Metric(metrics, "geo_mirrors_differing", "type=\"snippet\""), metrics);
            Assert.AreEqual(1, ObservabilityTests.Metric(metrics, "geo_mirrors_differing", "type=\"group_wiki\""));
        }

        // The git server catches up; no event says so. Verification compares every type with the primary's inventory and repairs both.
        foreach (var (link, real) in links)
        {
            File.Delete(link);
            File.CreateSymbolicLink(link, real);
        }

        foreach (var name in Sites)
        {
            var (code, stdout, stderr) = await site.AdminAsync("verify", name, "--output", "json");
            Assert.AreEqual(0, code, stderr + stdout);
            var run = System.Text.Json.JsonDocument.Parse(stdout).RootElement.EnumerateArray().Single();
            Assert.AreEqual(2, run.GetProperty("repaired").GetInt64(), stdout);
            Assert.AreEqual(0, run.GetProperty("failed").GetInt64(), stdout);
        }

        await WaitForMirrorsAsync(site, snippet, wiki);
        await WaitForDiffersAsync(site, counts => counts.Values.All(c => c == 0));
    }

    [TestMethod]
    public async Task ASnippetOrGroupWikiGoneFromTheStorageGoesToTheTrashOnEverySecondaryButAnUnmountedStorageOrAStorageMoveDestroysNothing()
    {
        // A second storage, as GitLab has: a repository moved there is not a deleted one.
        var other = Path.Combine(Path.GetTempPath(), "geo-events-tests", "storage-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(other);
        await using var site = await StartAsync(settings: new Dictionary<string, string> { ["Primary:RepositoryStorages:other"] = other });
        var project = await site.CreateHashedRepositoryAsync("team/keep", 121);
        await site.PushWithHookAsync(project, 121, "code");
        var snippet = await site.CreateStoredRepositoryAsync(RepositoryKind.Snippet, 122, "snippets/122");
        var snippetSha = await snippet.CommitAndPushAsync("snippet");
        var wiki = await site.CreateStoredRepositoryAsync(RepositoryKind.GroupWiki, 123, "crew.wiki");
        await wiki.CommitAndPushAsync("group home");
        var moving = await site.CreateStoredRepositoryAsync(RepositoryKind.Snippet, 124, "snippets/124");
        await moving.CommitAndPushAsync("snippet that moves storage");
        await WaitForMirrorsAsync(site, project, snippet, wiki, moving);

        // The storage's volume is not mounted: its mount point is an empty folder, for many passes. Nothing is destroyed.
        var unmounted = Path.Combine(site.Root, "unmounted");
        Directory.Move(site.StorageRoot, unmounted);
        Directory.CreateDirectory(site.StorageRoot);
        await PassesAsync(site, 2 * RepositoryScannerPasses);
        Directory.Delete(site.StorageRoot);
        Directory.Move(unmounted, site.StorageRoot);
        await PassesAsync(site, 2);
        Assert.AreEqual(0L, await DestroysAsync(site), "an unmounted storage destroyed mirrors");

        // GitLab moves snippet 124 to the other storage (a copy, then the old one deleted): not a deletion.
        var movedTo = Path.Combine(other, RepositoryLayout.HashedPath(RepositoryKind.Snippet, 124));
        moving.CopyBareTo(Path.Combine(other, "staging.git"));
        Directory.CreateDirectory(Path.GetDirectoryName(movedTo)!);
        Directory.Move(Path.Combine(other, "staging.git"), movedTo);
        var movingLink = Path.Combine(site.StorageRoot, moving.PathWithNamespace + ".git");
        File.Delete(movingLink);
        File.CreateSymbolicLink(movingLink, movedTo); // where GitLab serves it from now
        await PassesAsync(site, 2);
        Directory.Delete(moving.BarePath, recursive: true);

        // GitLab deletes snippet 122 (no hook), and group 123's wiki goes without its group_destroy reaching us.
        Directory.Delete(snippet.BarePath, recursive: true);
        File.Delete(Path.Combine(site.StorageRoot, snippet.PathWithNamespace + ".git"));
        Directory.Delete(wiki.BarePath, recursive: true);
        File.Delete(Path.Combine(site.StorageRoot, wiki.PathWithNamespace + ".git"));

        await OnEverySecondaryAsync(name => TrashedOwners(Path.Combine(site.MirrorRoot(name), "@trash")).Order().SequenceEqual([122L, 123L]),
            "the deleted snippet and group wiki are not in the trash");
        foreach (var name in Sites)
        {
            var trash = Path.Combine(site.MirrorRoot(name), "@trash");
            Assert.IsFalse(Directory.Exists(Path.Combine(site.MirrorRoot(name), RepositoryLayout.HashedPath(RepositoryKind.Snippet, 122))), $"{name}: the snippet's mirror stayed");
            Assert.IsFalse(Path.Exists(Path.Combine(site.MirrorRoot(name), RepositoryLayout.MirrorName(RepositoryKind.Snippet, 122, "snippets/122"))), $"{name}: the snippet is still readable");
            Assert.IsFalse(Path.Exists(site.MirrorPath(name, "crew.wiki")), $"{name}: the group wiki is still readable");
            var kept = Directory.GetDirectories(trash).Single(d => TrashedOwner(d) == 122);
            Assert.AreEqual(snippetSha, (await Shell.RunAsync("git", kept, "rev-parse", "refs/heads/main")).Trim(), $"{name}: the trash holds the snippet whole");
            Assert.AreEqual(2L, await site.QuerySecondaryAsync<long>(name, "SELECT count(*) FROM projects WHERE project_id IN (122, 123) AND kind IN (3, 4) AND state = 'destroyed'"));
        }

        await PassesAsync(site, 3);
        Assert.AreEqual(2L, await DestroysAsync(site), "one destroy each for the snippet and the group wiki, none for the snippet that moved");
        await site.WaitForMirrorsAsync(project);
        foreach (var name in Sites)
        {
            Assert.IsTrue(Directory.Exists(Path.Combine(site.MirrorRoot(name), RepositoryLayout.HashedPath(RepositoryKind.Snippet, 124))), $"{name}: the snippet that moved storage was destroyed");
        }

        Directory.Delete(other, recursive: true);
    }

    /// <summary>More passes than a destroy needs (the detector records one after two passes in a row).</summary>
    private const int RepositoryScannerPasses = 3;

    private static Task<long> DestroysAsync(GeoSite site) =>
        site.QueryPrimaryAsync<long>("SELECT count(*) FROM event_log WHERE event_type = 'RepositoryDestroyed'");

    private static IEnumerable<long> TrashedOwners(string trash) =>
        Directory.Exists(trash) ? Directory.GetDirectories(trash).Select(TrashedOwner).OfType<long>() : [];

    /// <summary>The owner id in a trash entry's note, once the entry is whole.</summary>
    private static long? TrashedOwner(string entry)
    {
        var note = Path.Combine(entry, "geo-trash.json");
        return File.Exists(note) ? System.Text.Json.JsonDocument.Parse(File.ReadAllText(note)).RootElement.GetProperty("projectId").GetInt64() : null;
    }

    /// <summary>Waits until geo-admin status shows, for every secondary, per-type differs counts that meet <paramref name="condition"/>.</summary>
    private static async Task WaitForDiffersAsync(GeoSite site, Func<IReadOnlyDictionary<string, long>, bool> condition)
    {
        var last = "";
        await GeoSite.WaitUntilAsync(async () =>
        {
            var (_, stdout, _) = await site.AdminAsync("status", "--output", "json");
            last = stdout;
            var rows = System.Text.Json.JsonDocument.Parse(stdout).RootElement.EnumerateArray().ToList();
            return rows.Count == Sites.Length && rows.All(row => row.TryGetProperty("differs", out var differs) && differs.ValueKind == System.Text.Json.JsonValueKind.Object
                && condition(differs.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt64())));
        }, Timeout, () => $"geo-admin status did not show the expected differs counts: {last}");
    }

    /// <summary>Waits until every secondary has each repository as the primary has it (refs, at its mirror name).</summary>
    private static async Task WaitForMirrorsAsync(GeoSite site, params PrimaryRepository[] repos)
    {
        foreach (var repo in repos)
        {
            await site.WaitForMirrorsAsync(repo);
        }
    }

    /// <summary>Waits until <paramref name="condition"/> holds on every secondary (by name); fails naming the first on which it does not.</summary>
    private static Task OnEverySecondaryAsync(Func<string, bool> condition, string failure) =>
        OnEverySecondaryAsync(name => Task.FromResult(condition(name)), failure);

    private static async Task OnEverySecondaryAsync(Func<string, Task<bool>> condition, string failure)
    {
        foreach (var name in Sites)
        {
            await GeoSite.WaitUntilAsync(() => condition(name), Timeout, () => $"{name}: {failure}");
        }
    }

    /// <summary>Waits until the detector has finished <paramref name="count"/> more passes.</summary>
    private static async Task PassesAsync(GeoSite site, int count)
    {
        var start = await PassCountAsync(site);
        await GeoSite.WaitUntilAsync(async () => await PassCountAsync(site) >= start + count, Timeout, () => "the detector does not pass");
    }

    private static async Task<double> PassCountAsync(GeoSite site) =>
        ObservabilityTests.Metric(await site.Http.GetStringAsync("/metrics"), "geo_repository_scan_duration_seconds_count") ?? 0;

    private static Task<long> DetectorEventsAsync(GeoSite site, long projectId) => site.QueryPrimaryAsync<long>(
        "SELECT count(*) FROM event_log WHERE project_id = @projectId AND body->>'Trigger' = 'repository_scan'", new { projectId });

    private static async Task<string> HeadAsync(string gitDir) => Directory.Exists(gitDir) ? (await Shell.RunAsync("git", gitDir, "symbolic-ref", "HEAD")).Trim() : "";
}
