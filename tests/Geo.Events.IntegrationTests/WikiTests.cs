using Geo.Events.Testing;
using static Geo.Events.Testing.PrimaryRepository;

namespace Geo.Events.IntegrationTests;

/// <summary>A project's wiki is mirrored like its repository, moves with it, and may not exist at all.</summary>
[TestClass]
public sealed class WikiTests
{
    private static readonly string[] Sites = ["tokyo", "berlin"];
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [TestMethod]
    public async Task AWikiPageEventMirrorsTheWikiWhichMovesAndDiesWithItsProject()
    {
        await using var site = await GeoSite.StartAsync(Sites);
        const long id = 71;
        var wiki = await site.CreateRepositoryAsync("docs/handbook.wiki");
        await wiki.CommitAndPushAsync("home page");
        var (project, _) = await site.CreatePushedRepositoryAsync("docs/handbook", id, "code");
        await site.Hooks.AcceptedAsync(Hooks.WikiPage(id, project.PathWithNamespace));
        await site.WaitForMirrorsAsync(project);
        await site.WaitForMirrorsAsync(wiki); // <root>/docs/handbook.wiki.git

        // A push to the wiki's repository announced by repository_update (the path names the wiki).
        var page = await wiki.CommitAndPushAsync("second page");
        await site.Hooks.AcceptedAsync(Hooks.RepositoryUpdate(id, wiki.PathWithNamespace, ("refs/heads/main", Zero, page)));
        await site.WaitForMirrorsAsync(wiki);
        foreach (var name in Sites)
        {
            Assert.AreEqual(2L, await site.QuerySecondaryAsync<long>(name, "SELECT count(*) FROM projects WHERE project_id = @id AND state = 'synced'", new { id }));
            Assert.AreEqual(0L, await site.QuerySecondaryAsync<long>(name, "SELECT count(*) FROM projects WHERE path_with_namespace LIKE '%.wiki'"), "the wiki became a project of its own");
        }

        // Renamed: both move, each by one link swap.
        var movedProject = await project.MoveAsync("docs/guide");
        var movedWiki = await wiki.MoveAsync("docs/guide.wiki");
        await site.Hooks.AcceptedAsync(Hooks.ProjectEvent("project_rename", id, movedProject.PathWithNamespace, project.PathWithNamespace));
        foreach (var name in Sites)
        {
            await GeoSite.WaitUntilAsync(
                () => Task.FromResult(Directory.Exists(site.MirrorPath(name, "docs/guide.wiki")) && !Path.Exists(site.MirrorPath(name, "docs/handbook.wiki"))),
                Timeout, () => $"{name}: the wiki did not move with its project");
        }

        await site.WaitForMirrorsAsync(movedProject);
        await site.WaitForMirrorsAsync(movedWiki);

        await site.Hooks.AcceptedAsync(Hooks.ProjectEvent("project_destroy", id, movedProject.PathWithNamespace));
        foreach (var name in Sites)
        {
            await GeoSite.WaitUntilAsync(
                () => Task.FromResult(!Path.Exists(site.MirrorPath(name, "docs/guide.wiki")) && !Path.Exists(site.MirrorPath(name, "docs/guide"))),
                Timeout, () => $"{name}: the destroyed project's wiki is still there");
            Assert.AreEqual(0, Directory.GetDirectories(Path.Combine(site.MirrorRoot(name), "@hashed"), "*.git", SearchOption.AllDirectories).Length);
        }
    }

    [TestMethod]
    public async Task AProjectWithoutAWikiIsNotAnError()
    {
        await using var site = await GeoSite.StartAsync(["tokyo"]);
        const long id = 72;
        var project = await site.CreateRepositoryAsync("docs/no-wiki");
        await site.Hooks.AcceptedAsync(Hooks.WikiPage(id, project.PathWithNamespace, "delete"));
        await GeoSite.WaitUntilAsync(
            async () => await site.QuerySecondaryAsync<string?>("tokyo", "SELECT min(state) FROM projects WHERE project_id = @id AND kind = 1", new { id }) == "absent",
            Timeout, () => "the missing wiki was not recorded as absent");
        Assert.IsFalse(Path.Exists(site.MirrorPath("tokyo", "docs/no-wiki.wiki")));
        Assert.AreEqual(0L, await site.QueryPrimaryAsync<long>("SELECT count(*) FROM dead_letters"), "a missing wiki must not dead-letter");
    }
}
