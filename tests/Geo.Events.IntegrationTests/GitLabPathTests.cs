using Geo.Events.Testing;

namespace Geo.Events.IntegrationTests;

/// <summary>
/// Paths GitLab allows reach the mirrors: the deepest nesting (20 ancestor groups, 22 segments), legacy paths that start
/// with '.', and a project that is really called <c>handbook.wiki</c>.
/// </summary>
[TestClass]
public sealed class GitLabPathTests
{
    [TestMethod]
    public async Task TheDeepestPathALeadingDotAndAProjectCalledWikiAreMirrored()
    {
        await using var site = await GeoSite.StartAsync(["tokyo"]);
        var deep = string.Join('/', Enumerable.Range(1, 21).Select(i => $"g{i}")) + "/project";
        var paths = new[] { (deep, 101L), (".legacy/.dotfiles", 102L), ("docs/handbook.wiki", 103L) };
        foreach (var (path, id) in paths)
        {
            var (repo, _) = await site.CreatePushedRepositoryAsync(path, id, path);
            await site.WaitForMirrorsAsync(repo);
        }

        Assert.AreEqual(22, deep.Split('/').Length);
        Assert.AreEqual("docs/handbook.wiki", await site.QuerySecondaryAsync<string>("tokyo", "SELECT path_with_namespace FROM projects WHERE project_id = 103 AND kind = 0"),
            "the project called handbook.wiki was taken for a wiki");
        Assert.IsFalse(Path.Exists(site.MirrorPath("tokyo", "docs/handbook")), "a mirror appeared for a project 'docs/handbook' that does not exist");
    }
}
