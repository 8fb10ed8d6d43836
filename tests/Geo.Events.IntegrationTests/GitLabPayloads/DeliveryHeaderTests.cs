using System.Net;
using System.Text.Json.Nodes;
using Geo.Events.Testing;
using static Geo.Events.Testing.PrimaryRepository;

namespace Geo.Events.IntegrationTests.GitLabPayloads;

/// <summary>
/// What GitLab's delivery headers mean to geo-primary: no X-Gitlab-Event-UUID (before 14.8), Idempotency-Key (17.4+)
/// reused by a retry and by "Resend request", X-Gitlab-Instance recorded as the event's origin and shown by geo-admin.
/// </summary>
[TestClass]
public sealed class DeliveryHeaderTests
{
    private static GeoSite _site = null!;
    private static readonly string Sha = new('b', 40);

    [ClassInitialize]
    public static async Task StartAsync(TestContext _) => _site = await GeoSite.StartAsync(["tokyo"], startSecondaries: false);

    [ClassCleanup]
    public static async Task StopAsync() => await _site.DisposeAsync();

    private static async Task<JsonObject> PostAsync(JsonObject payload, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/hooks/system") { Content = System.Net.Http.Json.JsonContent.Create(payload) };
        request.Headers.Add("X-Gitlab-Token", GeoSite.Token);
        request.Headers.Add("X-Gitlab-Event", "System Hook");
        foreach (var (name, value) in headers)
        {
            request.Headers.Add(name, value);
        }

        using var response = await _site.Http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.AreEqual(HttpStatusCode.Accepted, response.StatusCode, body);
        return JsonNode.Parse(body)!.AsObject();
    }

    [TestMethod]
    public async Task WithoutAnyDeliveryIdEveryDeliveryIsRecorded()
    {
        var push = Hooks.Push("push", 301, "old/gitlab", "refs/heads/main", Zero, Sha);
        var first = await PostAsync(push);
        var second = await PostAsync(push);
        Assert.AreNotEqual((long)first["id"]!, (long)second["id"]!, "GitLab before 14.8 sends no delivery id: nothing to tell a repeat by");
    }

    [TestMethod]
    public async Task AResendOfAPushForcesANewSyncAndTheSameRequestAgainIsADuplicate()
    {
        var push = Hooks.Push("push", 302, "team/resend", "refs/heads/main", Zero, Sha);
        var key = Guid.NewGuid().ToString();
        var uuid = Guid.NewGuid().ToString();
        var first = await PostAsync(push, ("Idempotency-Key", key), ("X-Gitlab-Event-UUID", uuid));
        var again = await PostAsync(push, ("Idempotency-Key", key), ("X-Gitlab-Event-UUID", uuid));
        Assert.AreEqual(true, (bool)again["duplicate"]!);
        Assert.AreEqual((long)first["id"]!, (long)again["id"]!);

        // "Resend request" (and GitLab's own retry) keeps the Idempotency-Key with a new X-Gitlab-Event-UUID.
        var resent = await PostAsync(push, ("Idempotency-Key", key), ("X-Gitlab-Event-UUID", Guid.NewGuid().ToString()));
        Assert.AreEqual(false, (bool)resent["duplicate"]!, "a resend could not force a resync");
        Assert.IsTrue((long)resent["id"]! > (long)first["id"]!);
    }

    [TestMethod]
    public async Task AResendOfAKeyEventIsADuplicate()
    {
        var keyCreate = new JsonObject
        {
            ["event_name"] = "key_create",
            ["id"] = 303,
            ["username"] = "jdoe",
            ["key"] = TestKeys.RandomEd25519(),
        };
        var key = Guid.NewGuid().ToString();
        var first = await PostAsync(keyCreate, ("Idempotency-Key", key), ("X-Gitlab-Event-UUID", Guid.NewGuid().ToString()));
        var resent = await PostAsync(keyCreate, ("Idempotency-Key", key), ("X-Gitlab-Event-UUID", Guid.NewGuid().ToString()));
        Assert.AreEqual(true, (bool)resent["duplicate"]!, "a resent key_create was recorded anew: it could bring back a key destroyed since");
        Assert.AreEqual((long)first["id"]!, (long)resent["id"]!);
    }

    [TestMethod]
    public async Task TheInstanceIsRecordedAndGeoAdminShowsTheOrigin()
    {
        var recorded = await PostAsync(Hooks.Push("push", 304, "team/origin", "refs/heads/main", Zero, Sha),
            ("X-Gitlab-Instance", "https://gitlab.acme.test"), ("X-Gitlab-Event-UUID", Guid.NewGuid().ToString()));
        var (exit, stdout, stderr) = await _site.AdminAsync("events", "--project", "304", "--output", "json");
        Assert.AreEqual(0, exit, stderr);
        var row = JsonNode.Parse(stdout)!.AsArray().Single()!;
        Assert.AreEqual((long)recorded["id"]!, (long)row["sequence"]!);
        Assert.AreEqual("https://gitlab.acme.test", (string?)row["origin"]);
        Assert.AreEqual("System Hook", (string?)row["gitLabEvent"]);
        Assert.AreEqual("team/origin", (string?)row["subject"]);

        var (tableExit, table, _) = await _site.AdminAsync("events", "--project", "304");
        Assert.AreEqual(0, tableExit);
        StringAssert.Contains(table, "origin"); // the table wraps its cells on a narrow terminal: the JSON above holds the value
        StringAssert.Contains(table, "https:");
    }
}
