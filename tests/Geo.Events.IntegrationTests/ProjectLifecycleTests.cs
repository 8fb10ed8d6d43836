using Geo.Events.Contracts;
using Geo.Events.Testing;
using static Geo.Events.Testing.PrimaryRepository;

namespace Geo.Events.IntegrationTests;

/// <summary>project_create, project_rename, project_transfer and project_destroy, from GitLab's hooks to every secondary's disk.</summary>
[TestClass]
public sealed class ProjectLifecycleTests
{
    private static readonly string[] Sites = ["tokyo", "berlin"];
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [TestMethod]
    public async Task RenameAndTransferMoveTheMirrorAndLaterPushesArriveUnderTheNewPath()
    {
        await using var site = await GeoSite.StartAsync(Sites);
        const long id = 21;
        var (repo, _) = await site.CreatePushedRepositoryAsync("team/app", id);
        await site.WaitForMirrorsAsync(repo);

        var renamed = await repo.MoveAsync("team/app-renamed");
        await site.Hooks.AcceptedAsync(Hooks.ProjectEvent("project_rename", id, renamed.PathWithNamespace, repo.PathWithNamespace));
        await WaitForMoveAsync(site, repo.PathWithNamespace, renamed.PathWithNamespace);
        await site.WaitForMirrorsAsync(renamed);

        await site.PushWithHookAsync(renamed, id, "after the rename");
        await site.WaitForMirrorsAsync(renamed);

        var transferred = await renamed.MoveAsync("platform/tools/app-renamed");
        await site.Hooks.AcceptedAsync(Hooks.ProjectEvent("project_transfer", id, transferred.PathWithNamespace, renamed.PathWithNamespace));
        await WaitForMoveAsync(site, renamed.PathWithNamespace, transferred.PathWithNamespace);
        await site.WaitForMirrorsAsync(transferred);

        foreach (var name in Sites)
        {
            var link = site.MirrorPath(name, transferred.PathWithNamespace);
            await Shell.RunAsync("git", link, "fsck", "--strict");
            StringAssert.Contains(new DirectoryInfo(link).LinkTarget, "@hashed/", $"{name}: the readable path should lead to the mirror stored by id");
            Assert.IsFalse(Directory.Exists(Path.Combine(site.MirrorRoot(name), "team")), $"{name}: the emptied namespace folder was left behind");
            Assert.AreEqual(transferred.PathWithNamespace, await site.QuerySecondaryAsync<string>(name, "SELECT path_with_namespace FROM projects WHERE project_id = @id", new { id }));
            // One clone and two fetches: the renames moved a link, they did not copy or re-clone the mirror.
            Assert.AreEqual(1, Directory.GetDirectories(Path.Combine(site.MirrorRoot(name), "@hashed"), "*.git", SearchOption.AllDirectories).Length);
        }
    }

    [TestMethod]
    public async Task AnOlderPushDeliveredAfterTheRenameDoesNotMoveTheMirrorBack()
    {
        await using var site = await GeoSite.StartAsync(["tokyo"]);
        const long id = 31;
        var repo = await site.CreateRepositoryAsync("old-group/service");
        var (_, first) = await site.PushWithHookAsync(repo, id, "first");
        await site.WaitForMirrorsAsync(repo);

        var moved = await repo.MoveAsync("new-group/service");
        await moved.CommitAndPushAsync("pushed around the rename");
        // Delivered out of order, as at-least-once delivery may: the rename (newer) first, then a push recorded before it.
        await using (var bus = await site.ForgeryBusAsync())
        {
            await bus.Publish(new ProjectRenamed
            {
                EventId = Guid.NewGuid(),
                Sequence = first + 2,
                OccurredAt = DateTimeOffset.UtcNow,
                ProjectId = id,
                PathWithNamespace = moved.PathWithNamespace,
                OldPathWithNamespace = repo.PathWithNamespace,
                Trigger = "project_rename",
            });
            await bus.Publish(new RepositoryChanged
            {
                EventId = Guid.NewGuid(),
                Sequence = first + 1,
                OccurredAt = DateTimeOffset.UtcNow,
                ProjectId = id,
                PathWithNamespace = repo.PathWithNamespace,
                Trigger = "push",
            });
        }

        await site.WaitForMirrorsAsync(moved);
        await GeoSite.WaitUntilAsync(
            async () => await site.QuerySecondaryAsync<long>("tokyo", "SELECT last_synced_sequence FROM projects WHERE project_id = @id", new { id }) >= first + 1,
            Timeout, () => "the late push was never applied");
        Assert.IsFalse(Path.Exists(site.MirrorPath("tokyo", repo.PathWithNamespace)), "the late push brought the old path back");
        Assert.AreEqual(moved.PathWithNamespace, await site.QuerySecondaryAsync<string>("tokyo", "SELECT path_with_namespace FROM projects WHERE project_id = @id", new { id }));
    }

    [TestMethod]
    public async Task CreateMirrorsAnEmptyProjectAndDestroyRemovesItForGood()
    {
        await using var site = await GeoSite.StartAsync(Sites);
        const long id = 41;
        var repo = await site.CreateRepositoryAsync("lab/fresh");
        await site.Hooks.AcceptedAsync(Hooks.ProjectEvent("project_create", id, repo.PathWithNamespace));
        foreach (var name in Sites)
        {
            await GeoSite.WaitUntilAsync(
                async () => Directory.Exists(site.MirrorPath(name, repo.PathWithNamespace))
                            && await site.QuerySecondaryAsync<string>(name, "SELECT state FROM projects WHERE project_id = @id", new { id }) == "synced",
                Timeout, () => $"{name} did not mirror the new, empty project");
        }

        await site.PushWithHookAsync(repo, id, "first");
        await site.WaitForMirrorsAsync(repo);

        var head = await repo.ShaAsync("main");
        Directory.Delete(repo.BarePath, recursive: true);
        await site.Hooks.AcceptedAsync(Hooks.ProjectEvent("project_destroy", id, repo.PathWithNamespace));
        foreach (var name in Sites)
        {
            await GeoSite.WaitUntilAsync(
                async () => await site.QuerySecondaryAsync<string>(name, "SELECT state FROM projects WHERE project_id = @id", new { id }) == "destroyed",
                Timeout, () => $"{name} did not record the project as destroyed");
        }

        // A push hook that arrives after the destroy (GitLab may still send one) must not bring the mirror back.
        var late = await site.Hooks.AcceptedAsync(Hooks.Push("push", id, repo.PathWithNamespace, "refs/heads/main", head, Zero));
        foreach (var name in Sites)
        {
            await GeoSite.WaitUntilAsync(
                async () => await site.QuerySecondaryAsync<long>(name, "SELECT max_seen_sequence FROM projects WHERE project_id = @id", new { id }) >= late,
                Timeout, () => $"{name} never received the late push");
            Assert.IsFalse(Path.Exists(site.MirrorPath(name, repo.PathWithNamespace)), $"{name} still has the readable path");
            Assert.IsFalse(Path.Exists(Path.Combine(site.MirrorRoot(name), "lab")), $"{name} left the empty namespace folder");
            Assert.AreEqual(0, Directory.GetDirectories(Path.Combine(site.MirrorRoot(name), "@hashed"), "*.git", SearchOption.AllDirectories).Length, $"{name} kept the mirror's data");
            Assert.AreEqual("destroyed", await site.QuerySecondaryAsync<string>(name, "SELECT state FROM projects WHERE project_id = @id", new { id }));
        }

        Assert.AreEqual(0L, await site.QueryPrimaryAsync<long>("SELECT count(*) FROM dead_letters"), "a lifecycle event failed");
    }

    [TestMethod]
    public async Task AGroupRenameMovesEveryProjectBelowTheGroupAndNoOther()
    {
        await using var site = await GeoSite.StartAsync(["tokyo"]);
        var repos = new List<PrimaryRepository>();
        foreach (var (path, id) in new[] { ("old-group/a", 81L), ("old-group/sub/b", 82L), ("old-group-2/c", 83L) })
        {
            var (repo, _) = await site.CreatePushedRepositoryAsync(path, id, path);
            await site.WaitForMirrorsAsync(repo, "tokyo");
            repos.Add(repo);
        }

        var a = await repos[0].MoveAsync("new-group/a");
        var b = await repos[1].MoveAsync("new-group/sub/b");
        // GitLab's documented group_rename system hook: no project_rename follows for the projects inside.
        await site.Hooks.AcceptedAsync(new System.Text.Json.Nodes.JsonObject
        {
            ["created_at"] = "2017-10-30T15:58:38Z",
            ["updated_at"] = "2017-11-01T10:51:03Z",
            ["event_name"] = "group_rename",
            ["name"] = "new-group",
            ["path"] = "new-group",
            ["full_path"] = "new-group",
            ["group_id"] = 78,
            ["old_path"] = "old-group",
            ["old_full_path"] = "old-group",
        });
        await GeoSite.WaitUntilAsync(
            () => Task.FromResult(Directory.Exists(site.MirrorPath("tokyo", "new-group/a")) && Directory.Exists(site.MirrorPath("tokyo", "new-group/sub/b"))
                                  && !Path.Exists(Path.Combine(site.MirrorRoot("tokyo"), "old-group"))),
            Timeout, () => "the group's projects did not move");
        Assert.IsTrue(Directory.Exists(site.MirrorPath("tokyo", "old-group-2/c")), "a group whose name merely starts the same was moved too");

        await site.PushWithHookAsync(a, 81, "after the group rename");
        await site.WaitForMirrorsAsync(a, "tokyo");
        await site.WaitForMirrorsAsync(b, "tokyo");
    }

    [TestMethod]
    public async Task AUserRenameMovesEveryProjectOfThePersonalNamespace()
    {
        await using var site = await GeoSite.StartAsync(Sites);
        var repos = new List<PrimaryRepository>();
        foreach (var (path, id) in new[] { ("jdoe/dotfiles", 91L), ("jdoe/notes", 92L), ("jdoe-team/c", 93L) })
        {
            var (repo, _) = await site.CreatePushedRepositoryAsync(path, id, path);
            await site.WaitForMirrorsAsync(repo);
            repos.Add(repo);
        }

        var dotfiles = await repos[0].MoveAsync("jane/dotfiles");
        var notes = await repos[1].MoveAsync("jane/notes");
        // GitLab's documented user_rename system hook: the personal namespace follows the username, and no project_rename
        // is sent for the projects in it.
        await site.Hooks.AcceptedAsync(new System.Text.Json.Nodes.JsonObject
        {
            ["event_name"] = "user_rename",
            ["created_at"] = "2026-11-01T11:21:04Z",
            ["updated_at"] = "2026-11-01T14:04:47Z",
            ["name"] = "Jane Doe",
            ["email"] = "jane@example.com",
            ["user_id"] = 58,
            ["username"] = "jane",
            ["old_username"] = "jdoe",
        });
        await WaitForMoveAsync(site, "jdoe/dotfiles", "jane/dotfiles");
        await WaitForMoveAsync(site, "jdoe/notes", "jane/notes");
        foreach (var name in Sites)
        {
            Assert.IsFalse(Path.Exists(Path.Combine(site.MirrorRoot(name), "jdoe")), $"{name}: the old personal namespace folder was left behind");
            Assert.IsTrue(Directory.Exists(site.MirrorPath(name, "jdoe-team/c")), $"{name}: a namespace whose name merely starts the same was moved too");
            Assert.AreEqual(2L, await site.QuerySecondaryAsync<long>(name, "SELECT count(*) FROM projects WHERE kind = 0 AND starts_with(path_with_namespace, 'jane/')"));
        }

        await site.PushWithHookAsync(notes, 92, "after the user rename");
        await site.WaitForMirrorsAsync(notes);
        await site.WaitForMirrorsAsync(dotfiles);
    }

    [TestMethod]
    public async Task AProjectUpdateSyncsTheRepository()
    {
        await using var site = await GeoSite.StartAsync(["tokyo"]);
        const long id = 95;
        var (repo, _) = await site.CreatePushedRepositoryAsync("team/settings", id);
        await site.WaitForMirrorsAsync(repo, "tokyo");

        // A new default branch, set on the primary: GitLab sends project_update (the payload names no attribute).
        await repo.GitAsync("push", "-q", "origin", "main:release");
        await Shell.RunAsync("git", repo.BarePath, "symbolic-ref", "HEAD", "refs/heads/release");
        await site.Hooks.AcceptedAsync(Hooks.ProjectEvent("project_update", id, repo.PathWithNamespace));
        await site.WaitForMirrorsAsync(repo, "tokyo");
        Assert.AreEqual("project_update", await site.QueryPrimaryAsync<string>(
            "SELECT body->>'Trigger' FROM event_log WHERE project_id = @id ORDER BY id DESC LIMIT 1", new { id }));
    }

    private static async Task WaitForMoveAsync(GeoSite site, string from, string to)
    {
        foreach (var name in Sites)
        {
            await GeoSite.WaitUntilAsync(
                () => Task.FromResult(Directory.Exists(site.MirrorPath(name, to)) && !Path.Exists(site.MirrorPath(name, from))),
                Timeout, () => $"{name}: the mirror did not move from {from} to {to}");
        }
    }
}
