using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Geo.Events.Testing;

namespace Geo.Events.IntegrationTests.GitLabPayloads;

/// <summary>
/// Every payload in <c>GitLabPayloads/payloads.jsonl</c>, written from GitLab's documented field lists (system hooks, and
/// the project and group webhook events), posted to a real geo-primary the way three generations of GitLab send it:
/// before 14.8 (no <c>X-Gitlab-Event-UUID</c>), before 17.4 (the UUID only) and since (the UUID, <c>Idempotency-Key</c>
/// and <c>X-Gitlab-Instance</c>). Each must get its status; a recorded one must be the event it names, with the fields
/// it names; an acknowledged one must leave the event log as it was.
/// </summary>
[TestClass]
public sealed class GitLabPayloadTests
{
    private static GeoSite _site = null!;

    public sealed record Fixture(string Name, int Status, string Effect, string Hook, JsonObject Body, JsonObject? Expect)
    {
        public override string ToString() => Name;
    }

    public static IEnumerable<object[]> Fixtures()
    {
        var file = Path.Combine(TestServers.RepoRoot, "tests", "Geo.Events.IntegrationTests", "GitLabPayloads", "payloads.jsonl");
        foreach (var line in File.ReadLines(file).Where(l => l.Length > 0))
        {
            var node = JsonNode.Parse(line)!.AsObject();
            yield return
            [
                new Fixture((string)node["name"]!, (int)node["status"]!, (string)node["effect"]!, (string)node["hook"]!,
                    node["body"]!.DeepClone().AsObject(), node["expect"]?.DeepClone().AsObject()),
            ];
        }
    }

    public static string FixtureName(System.Reflection.MethodInfo _, object?[]? data) => ((Fixture)data![0]!).Name;

    [ClassInitialize]
    public static async Task StartAsync(TestContext _) => _site = await GeoSite.StartAsync(["tokyo"], startSecondaries: false);

    [ClassCleanup]
    public static async Task StopAsync() => await _site.DisposeAsync();

    /// <summary>The delivery headers of three GitLab generations.</summary>
    public static IEnumerable<(string Version, Dictionary<string, string> Headers)> Generations()
    {
        yield return ("14.7", new Dictionary<string, string>());
        yield return ("17.3", new Dictionary<string, string> { ["X-Gitlab-Event-UUID"] = Guid.NewGuid().ToString() });
        yield return ("17.4", new Dictionary<string, string>
        {
            ["X-Gitlab-Event-UUID"] = Guid.NewGuid().ToString(),
            ["Idempotency-Key"] = Guid.NewGuid().ToString(),
            ["X-Gitlab-Instance"] = "https://gitlab.acme.test",
        });
    }

    [TestMethod]
    public void EveryDocumentedSystemHookKindHasAFixture()
    {
        var kinds = Fixtures().Select(f => (Fixture)f[0]).Where(f => f.Hook == "System Hook")
            .Select(f => (string?)f.Body["event_name"] ?? (string)f.Body["object_kind"]!).ToHashSet();
        string[] documented =
        [
            "group_create", "group_destroy", "group_rename", "key_create", "key_destroy", "project_create", "project_destroy", "project_rename",
            "project_transfer", "project_update", "repository_update", "user_access_request_revoked_for_group",
            "user_access_request_revoked_for_project", "user_access_request_to_group", "user_access_request_to_project", "user_add_to_group",
            "user_add_to_team", "user_create", "user_destroy", "user_failed_login", "user_remove_from_group", "user_remove_from_team",
            "user_rename", "user_update_for_group", "user_update_for_team", "gitlab_subscription_member_approval",
            "gitlab_subscription_member_approvals", "push", "tag_push", "merge_request",
        ];
        CollectionAssert.IsSubsetOf(documented, kinds.ToList(), "missing: " + string.Join(", ", documented.Except(kinds)));
    }

    [TestMethod]
    [DynamicData(nameof(Fixtures), DynamicDataDisplayName = nameof(FixtureName))]
    public async Task GetsItsAnswerAndItsEffectFromEveryGeneration(Fixture f)
    {
        foreach (var (version, headers) in Generations())
        {
            var before = await _site.EventCountAsync();
            using var request = new HttpRequestMessage(HttpMethod.Post, "/hooks/system")
            {
                Content = new StringContent(f.Body.ToJsonString(), Encoding.UTF8, "application/json"),
            };
            request.Headers.Add("X-Gitlab-Token", GeoSite.Token);
            request.Headers.Add("X-Gitlab-Event", f.Hook);
            request.Headers.Add("User-Agent", "GitLab/" + version + ".0");
            foreach (var (name, value) in headers)
            {
                request.Headers.Add(name, value);
            }

            using var response = await _site.Http.SendAsync(request);
            var answer = await response.Content.ReadAsStringAsync();
            Assert.AreEqual((HttpStatusCode)f.Status, response.StatusCode, $"{f.Name} (GitLab {version}): {answer}");
            var after = await _site.EventCountAsync();
            if (f.Effect is "ignored" or "test")
            {
                Assert.AreEqual(before, after, $"{f.Name} (GitLab {version}) was recorded");
                Assert.AreEqual(true, (bool?)JsonNode.Parse(answer)!["ignored"], $"{f.Name} (GitLab {version}): {answer}");
                Assert.AreEqual(f.Effect == "test", (bool?)JsonNode.Parse(answer)!["test"] ?? false, $"{f.Name} (GitLab {version}): {answer}");
                continue;
            }

            Assert.AreEqual(before + 1, after, $"{f.Name} (GitLab {version}) was not recorded once");
            var (type, body) = await _site.QueryPrimaryAsync<(string, string)>("SELECT event_type, body::text FROM event_log ORDER BY id DESC LIMIT 1");
            Assert.AreEqual(f.Effect, type, f.Name);
            var recorded = JsonNode.Parse(body)!.AsObject();
            foreach (var (field, expected) in f.Expect ?? [])
            {
                Assert.AreEqual(expected?.ToJsonString(), recorded[field]?.ToJsonString(), $"{f.Name} (GitLab {version}): {field} in {body}");
            }
        }
    }
}
