using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Geo.Events.Testing;
using static Geo.Events.Testing.PrimaryRepository;

namespace Geo.Events.IntegrationTests.GitLabPayloads;

/// <summary>
/// Hooks that name a project wrongly must not move its mirror: GitLab's Test-button samples (project 15 at
/// gitlab/gitlab, project 40 without a project) and a push whose path disagrees with what GitLab's storage says.
/// </summary>
[TestClass]
public sealed class TestSampleTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [TestMethod]
    public async Task TheTestButtonsSamplesAreAnswered200AndChangeNoMirror()
    {
        await using var site = await GeoSite.StartAsync(["tokyo"]);
        // Real projects 15 and 40 on the primary, mirrored.
        var (app, _) = await site.CreatePushedRepositoryAsync("team/app", 15);
        var (lib, _) = await site.CreatePushedRepositoryAsync("team/lib", 40);
        await site.WaitForMirrorsAsync(app);
        await site.WaitForMirrorsAsync(lib);
        var before = await site.EventCountAsync();

        foreach (var sample in Fixtures().Where(f => f.Effect == "test"))
        {
            using var response = await site.Hooks.PostAsync(sample.Body);
            var body = await response.Content.ReadAsStringAsync();
            Assert.AreEqual(HttpStatusCode.OK, response.StatusCode, $"{sample.Name}: {body}");
            Assert.AreEqual(true, (bool?)JsonNode.Parse(body)!["test"], body);
        }

        Assert.AreEqual(before, await site.EventCountAsync(), "a Test sample was recorded");
        // A later push is the barrier: once it is applied, anything posted before it has been too.
        await site.PushWithHookAsync(app, 15, "after the samples", await app.ShaAsync("main"));
        await site.WaitForMirrorsAsync(app);
        Assert.IsFalse(Path.Exists(site.MirrorPath("tokyo", "gitlab/gitlab")), "the push sample made a mirror at the sample's path");
        Assert.AreEqual("team/app", await site.QuerySecondaryAsync<string>("tokyo", "SELECT path_with_namespace FROM projects WHERE project_id = 15 AND kind = 0"));
        Assert.AreEqual("team/lib", await site.QuerySecondaryAsync<string>("tokyo", "SELECT path_with_namespace FROM projects WHERE project_id = 40 AND kind = 0"));
        Assert.IsTrue(Directory.Exists(site.MirrorPath("tokyo", "team/lib")));
    }

    [TestMethod]
    public async Task APushWhosePathDisagreesWithGitLabsStorageIsRecordedUnderTheStoragesPath()
    {
        await using var site = await GeoSite.StartAsync(["tokyo"]);
        // Project 16 in GitLab's hashed storage: its config names its path.
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes("16")));
        var hashed = await site.CreateRepositoryAsync($"@hashed/{hash[..2]}/{hash[2..4]}/{hash}");
        await Shell.RunAsync("git", hashed.BarePath, "config", "gitlab.fullpath", "team/real");
        var sha = await hashed.CommitAndPushAsync("first");
        // The secondaries fetch by path (as from GitLab's HTTP routes); the test's file transport needs a link for it.
        Directory.CreateDirectory(Path.Combine(site.StorageRoot, "team"));
        File.CreateSymbolicLink(Path.Combine(site.StorageRoot, "team", "real.git"), hashed.BarePath);

        using var response = await site.Hooks.PostAsync(Hooks.Push("push", 16, "team/wrong", "refs/heads/main", Zero, sha));
        var body = await response.Content.ReadAsStringAsync();
        Assert.AreEqual(HttpStatusCode.Accepted, response.StatusCode, body);
        Assert.AreEqual("team/real", (string?)JsonNode.Parse(body)!["path"], body);

        await GeoSite.WaitUntilAsync(
            async () => Directory.Exists(site.MirrorPath("tokyo", "team/real"))
                        && await site.QuerySecondaryAsync<string?>("tokyo", "SELECT state FROM projects WHERE project_id = 16 AND kind = 0") == "synced",
            Timeout, () => "project 16 was not mirrored under the storage's path");
        Assert.IsFalse(Path.Exists(site.MirrorPath("tokyo", "team/wrong")), "the hook's wrong path was linked");
    }

    private static IEnumerable<GitLabPayloadTests.Fixture> Fixtures() => GitLabPayloadTests.Fixtures().Select(f => (GitLabPayloadTests.Fixture)f[0]);
}
