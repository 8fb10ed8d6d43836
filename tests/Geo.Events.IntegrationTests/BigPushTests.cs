using System.Text.Json.Nodes;
using Geo.Events.Testing;
using static Geo.Events.Testing.PrimaryRepository;

namespace Geo.Events.IntegrationTests;

/// <summary>
/// GitLab sends hook bodies of up to 25 MiB and a repository_update as long as the push's ref list: a big push is
/// replicated, never refused.
/// </summary>
[TestClass]
public sealed class BigPushTests
{
    [TestMethod]
    public async Task A25MegabytePushBodyAndARepositoryUpdateOfTwentyThousandRefsAreReplicated()
    {
        await using var site = await GeoSite.StartAsync(["tokyo"]);
        var repo = await site.CreateRepositoryAsync("big/monorepo");
        var first = await repo.CommitAndPushAsync("first");

        // A push hook of just under 25 MiB: GitLab sends up to 20 commits, each with its whole message.
        var push = Hooks.Push("push", 61, repo.PathWithNamespace, "refs/heads/main", Zero, first);
        var commits = new JsonArray(Enumerable.Range(0, 20).Select(i => (JsonNode)new JsonObject
        {
            ["id"] = first,
            ["message"] = "",
            ["title"] = "generated",
            ["timestamp"] = "2026-11-26T10:00:00+00:00",
            ["url"] = "https://gitlab.example.com/x",
            ["author"] = new JsonObject { ["name"] = "Bot", ["email"] = "bot@example.com" },
            ["added"] = new JsonArray(Enumerable.Range(0, 2500).Select(f => (JsonNode)JsonValue.Create($"src/generated/file-{i}-{f}.txt")!).ToArray()),
        }).ToArray());
        push["commits"] = commits;
        var fill = (25 * 1024 * 1024 - 64 * 1024 - push.ToJsonString().Length) / 20;
        foreach (var commit in commits)
        {
            commit!["message"] = new string('m', fill);
        }

        var size = push.ToJsonString().Length;
        Assert.IsTrue(size is > 24 * 1024 * 1024 and < 25 * 1024 * 1024, $"the body is {size} bytes");
        await site.Hooks.AcceptedAsync(push);
        await site.WaitForMirrorsAsync(repo);

        // 20,001 tags in one push: GitLab's repository_update lists every one of them.
        await repo.GitAsync("tag", "v-real");
        await repo.GitAsync("push", "-q", "origin", "v-real");
        var changes = Enumerable.Range(0, 20_000).Select(i => ($"refs/tags/v{i}", Zero, first)).Append(("refs/tags/v-real", Zero, first)).ToArray();
        var sequence = await site.Hooks.AcceptedAsync(Hooks.RepositoryUpdate(61, repo.PathWithNamespace, changes));
        await site.WaitForMirrorsAsync(repo);

        var body = JsonNode.Parse(await site.QueryPrimaryAsync<string>("SELECT body::text FROM event_log WHERE id = @sequence", new { sequence }))!;
        Assert.AreEqual(true, (bool?)body["WholeRepository"], "the long change list was not recorded as a sync of the whole repository");
        Assert.AreEqual(0, body["Changes"]!.AsArray().Count);
    }
}
