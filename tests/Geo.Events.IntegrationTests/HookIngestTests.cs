using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Geo.Events.Testing;
using static Geo.Events.Testing.PrimaryRepository;

namespace Geo.Events.IntegrationTests;

/// <summary>What a running geo-primary answers over real HTTP to hooks it must not accept; none of them is recorded.</summary>
[TestClass]
public sealed class HookIngestTests
{
    private static GeoSite _site = null!;
    private static readonly string Sha = new('a', 40);

    [ClassInitialize]
    public static async Task StartAsync(TestContext _) => _site = await GeoSite.StartAsync(["tokyo"], startSecondaries: false);

    [ClassCleanup]
    public static async Task StopAsync() => await _site.DisposeAsync();

    private static JsonObject ValidPush() => Hooks.Push("push", 5, "group/project", "refs/heads/main", Zero, Sha);

    private static async Task<(HttpStatusCode Status, string Body)> SendAsync(HttpContent content, string? token = GeoSite.Token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/hooks/system") { Content = content };
        if (token is not null)
        {
            request.Headers.Add("X-Gitlab-Token", token);
        }

        using var response = await _site.Http.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private static StringContent Json(string text) => new(text, Encoding.UTF8, "application/json");

    private static async Task AssertRejectedAsync(HttpStatusCode expected, string reasonFragment, HttpContent content, string? token = GeoSite.Token)
    {
        var before = await _site.EventCountAsync();
        var (status, body) = await SendAsync(content, token);
        Assert.AreEqual(expected, status, body);
        StringAssert.Contains(body, reasonFragment);
        Assert.AreEqual(before, await _site.EventCountAsync(), "a rejected hook was recorded");
    }

    [TestMethod]
    public Task MissingTokenIs401() => AssertRejectedAsync(HttpStatusCode.Unauthorized, "X-Gitlab-Token", Json(ValidPush().ToJsonString()), token: null);

    [TestMethod]
    public Task WrongTokenIs401() => AssertRejectedAsync(HttpStatusCode.Unauthorized, "does not match", Json(ValidPush().ToJsonString()), token: "not-the-token");

    [TestMethod]
    public Task MalformedJsonIs400() => AssertRejectedAsync(HttpStatusCode.BadRequest, "not a JSON object", Json("{\"event_name\": \"push\", "));

    [TestMethod]
    public Task DeeplyNestedJsonIs400() =>
        AssertRejectedAsync(HttpStatusCode.BadRequest, "JSON", Json("{\"event_name\":\"push\",\"x\":" + new string('[', 500) + new string(']', 500) + "}"));

    [TestMethod]
    public Task OversizedBodyIs413()
    {
        var payload = ValidPush();
        payload["padding"] = new string('x', 25 * 1024 * 1024); // over GitLab's own 25 MiB, the default Primary:MaxBodyBytes
        return AssertRejectedAsync(HttpStatusCode.RequestEntityTooLarge, "limited to", Json(payload.ToJsonString()));
    }

    [TestMethod]
    public async Task AnUnknownEventIsAcknowledgedButNotRecorded()
    {
        var payload = ValidPush();
        payload["event_name"] = "definitely_not_gitlab";
        payload["object_kind"] = "definitely_not_gitlab";
        payload["changes"] = new JsonObject { ["title"] = new JsonObject { ["previous"] = "a", ["current"] = "b" } };
        var before = await _site.EventCountAsync();
        var (status, body) = await SendAsync(Json(payload.ToJsonString()));
        Assert.AreEqual(HttpStatusCode.OK, status, body);
        StringAssert.Contains(body, "\"ignored\":true");
        StringAssert.Contains(body, "not a GitLab event this version of Geo.Events knows");
        Assert.AreEqual(before, await _site.EventCountAsync());
    }

    [TestMethod]
    public Task AnEventNameThatIsNoNameIs422()
    {
        var payload = ValidPush();
        payload["event_name"] = "push'; DROP TABLE event_log;--";
        return AssertRejectedAsync(HttpStatusCode.UnprocessableEntity, "is not an event name", Json(payload.ToJsonString()));
    }

    [TestMethod]
    [DataRow("../../etc/passwd")]
    [DataRow("group/../../escape")]
    [DataRow("/absolute/path")]
    [DataRow("group/pro\u0000ject")]
    [DataRow("group\\project")]
    [DataRow("group/proj\u0435ct")] // Cyrillic 'е', a look-alike
    [DataRow("group/project.git")]
    [DataRow("single")]
    public Task TraversalAndOddProjectPathsAre422(string path)
    {
        var payload = ValidPush();
        payload["project"]!["path_with_namespace"] = path;
        return AssertRejectedAsync(HttpStatusCode.UnprocessableEntity, "path_with_namespace", Json(payload.ToJsonString()));
    }

    [TestMethod]
    public Task AShortShaIs422()
    {
        var payload = ValidPush();
        payload["after"] = "abc123";
        return AssertRejectedAsync(HttpStatusCode.UnprocessableEntity, "'after'", Json(payload.ToJsonString()));
    }

    [TestMethod]
    public async Task AGitLabEventWeDoNotReplicateIsAcknowledgedButNotRecorded()
    {
        var before = await _site.EventCountAsync();
        var (status, body) = await SendAsync(Json("{\"event_name\":\"user_create\",\"user_id\":41,\"username\":\"js\"}"));
        Assert.AreEqual(HttpStatusCode.OK, status, body);
        StringAssert.Contains(body, "not replicated");
        Assert.AreEqual(before, await _site.EventCountAsync());
    }

    [TestMethod]
    public async Task AValidHookIsRecordedOnce()
    {
        var before = await _site.EventCountAsync();
        var (status, body) = await SendAsync(Json(ValidPush().ToJsonString()));
        Assert.AreEqual(HttpStatusCode.Accepted, status, body);
        Assert.AreEqual(before + 1, await _site.EventCountAsync());
    }
}
