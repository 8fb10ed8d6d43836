using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Geo.Events.Testing;
using RabbitMQ.Client;
using static Geo.Events.Testing.PrimaryRepository;

namespace Geo.Events.IntegrationTests;

/// <summary>Secondaries register themselves with geo-primary, report their status, and are removed by geo-admin.</summary>
[TestClass]
public sealed class RegistrationTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [TestMethod]
    public async Task ASecondaryRegistersItselfReceivesEventsAndReportsItsStatus()
    {
        await using var site = await GeoSite.StartAsync(["osaka"], register: true);
        Assert.AreEqual(1L, await site.QueryPrimaryAsync<long>("SELECT count(*) FROM secondaries WHERE name = 'osaka'"));

        // The secondary chose its token; the primary holds only its hash.
        var token = await site.QuerySecondaryAsync<string>("osaka", "SELECT access_token FROM registration");
        var stored = await site.QueryPrimaryAsync<string>("SELECT token_sha256 FROM secondaries WHERE name = 'osaka'");
        Assert.AreEqual(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token))), stored);
        Assert.AreNotEqual(token, stored);

        var (repo, _) = await site.CreatePushedRepositoryAsync("registered/app", 51);
        await site.WaitForMirrorsAsync(repo);

        await GeoSite.WaitUntilAsync(
            async () => await site.QueryPrimaryAsync<long?>("SELECT (status->'projects'->>'synced')::bigint FROM secondaries WHERE name = 'osaka'") == 1,
            Timeout, () => "osaka never reported its synced project");

        var (code, stdout, stderr) = await site.AdminAsync("status", "--output", "json");
        Assert.AreEqual(0, code, stderr + stdout);
        var row = JsonDocument.Parse(stdout).RootElement.EnumerateArray().Single();
        Assert.AreEqual("osaka", row.GetProperty("name").GetString());
        Assert.AreEqual("ok", row.GetProperty("verdict").GetString());
        Assert.AreEqual(1, row.GetProperty("synced").GetInt64());

        // Restarted, it keeps its registration: no second row, no refusal.
        await site.KillSecondaryAsync("osaka");
        site.StartSecondary("osaka");
        await site.WaitForSecondaryAsync("osaka");
        Assert.AreEqual(1L, await site.QueryPrimaryAsync<long>("SELECT count(*) FROM secondaries"));
    }

    /// <remarks>Run twice: geo-admin on the database and broker, then with only --url and an admin token (the admin API).</remarks>
    [TestMethod]
    [DataRow(false, DisplayName = "on the database")]
    [DataRow(true, DisplayName = "through the admin API")]
    public async Task RegistrationKeepsEventsBeforeTheFirstConsumeAndRefusesRivalsAndBadInput(bool throughApi)
    {
        await using var site = await GeoSite.StartAsync(["lisbon"], startSecondaries: false, register: true);
        if (throughApi)
        {
            await site.UseAdminApiAsync();
        }

        var token = new string('t', 40);

        using (var first = await RegisterAsync(site, GeoSite.RegistrationToken, new { name = "lisbon", url = "https://geo-lisbon.example.com", namespaces = new[] { "platform" }, token }))
        {
            Assert.AreEqual(HttpStatusCode.Created, first.StatusCode, await first.Content.ReadAsStringAsync());
            var body = JsonDocument.Parse(await first.Content.ReadAsStringAsync()).RootElement;
            Assert.AreEqual("geo.secondary.lisbon", body.GetProperty("queue").GetString());
            Assert.AreEqual(JsonValueKind.Null, body.GetProperty("token").ValueKind, "a token the secondary chose is not echoed");
        }

        // Registered and never started: an event from now on waits in its queue.
        var repo = await site.CreateRepositoryAsync("platform/kept");
        await site.Hooks.AcceptedAsync(Hooks.Push("push", 61, repo.PathWithNamespace, "refs/heads/main", Zero, await repo.CommitAsync("x")));
        await GeoSite.WaitUntilAsync(async () => await QueueDepthAsync(site, "geo.secondary.lisbon") == 1, Timeout, () => "the event did not reach lisbon's queue");

        using (var again = await RegisterAsync(site, GeoSite.RegistrationToken, new { name = "lisbon", token }))
        {
            Assert.AreEqual(HttpStatusCode.OK, again.StatusCode, "the same name and token again is idempotent");
        }

        using (var rival = await RegisterAsync(site, GeoSite.RegistrationToken, new { name = "lisbon", token = new string('u', 40) }))
        {
            Assert.AreEqual(HttpStatusCode.Conflict, rival.StatusCode);
        }

        using (var generated = await RegisterAsync(site, GeoSite.RegistrationToken, new { name = "porto" }))
        {
            Assert.AreEqual(HttpStatusCode.Created, generated.StatusCode);
            var issued = JsonDocument.Parse(await generated.Content.ReadAsStringAsync()).RootElement.GetProperty("token").GetString()!;
            Assert.IsTrue(issued.Length >= 40, "geo-primary issues a long random token when the secondary brings none");
            using var report = await ReportAsync(site, "porto", issued, """{"projects":{"synced":0}}""");
            Assert.AreEqual(HttpStatusCode.OK, report.StatusCode);
        }

        foreach (var (registrationToken, body, expected, reason) in new (string, object, HttpStatusCode, string)[]
        {
            ("wrong-registration-token", new { name = "faro" }, HttpStatusCode.Unauthorized, "Wrong token"),
            (GeoSite.RegistrationToken, new { name = "Faro_1" }, HttpStatusCode.UnprocessableEntity, "DNS label"),
            (GeoSite.RegistrationToken, new { name = "faro", namespaces = new[] { "../etc" } }, HttpStatusCode.UnprocessableEntity, "namespace"),
            (GeoSite.RegistrationToken, new { name = "faro", url = "ftp://x" }, HttpStatusCode.UnprocessableEntity, "'url'"),
            (GeoSite.RegistrationToken, new { name = "faro", token = "short" }, HttpStatusCode.UnprocessableEntity, "'token'"),
        })
        {
            using var response = await RegisterAsync(site, registrationToken, body);
            var text = await response.Content.ReadAsStringAsync();
            Assert.AreEqual(expected, response.StatusCode, text);
            StringAssert.Contains(text, reason);
        }

        Assert.AreEqual(0L, await site.QueryPrimaryAsync<long>("SELECT count(*) FROM secondaries WHERE name = 'faro'"));
        using (var forged = await ReportAsync(site, "lisbon", new string('u', 40), "{}"))
        {
            Assert.AreEqual(HttpStatusCode.Unauthorized, forged.StatusCode);
        }

        // lisbon never reported: status must not call it healthy, and exits 5 for scripts; porto reported and is ok.
        var (code, stdout, stderr) = await site.AdminAsync("status", "--output", "json");
        Assert.AreEqual(5, code, stderr + stdout);
        var verdicts = JsonDocument.Parse(stdout).RootElement.EnumerateArray().ToDictionary(r => r.GetProperty("name").GetString()!, r => r.GetProperty("verdict").GetString());
        Assert.AreEqual("unknown", verdicts["lisbon"]);
        Assert.AreEqual("ok", verdicts["porto"]);

        // list and show: what registered, and what waits for it.
        (code, stdout, stderr) = await site.AdminAsync("secondaries", "list", "--output", "json");
        Assert.AreEqual(0, code, stderr);
        var listed = JsonDocument.Parse(stdout).RootElement.EnumerateArray().ToDictionary(r => r.GetProperty("name").GetString()!);
        CollectionAssert.AreEquivalent(new[] { "lisbon", "porto" }, listed.Keys.ToArray());
        Assert.AreEqual(JsonValueKind.Null, listed["lisbon"].GetProperty("lastHeartbeatAt").ValueKind, "lisbon never reported");
        (code, stdout, stderr) = await site.AdminAsync("secondaries", "list");
        Assert.AreEqual(0, code, stderr);
        StringAssert.Contains(stdout, "lisbon");
        StringAssert.Contains(stdout, "2 registered secondaries");
        (code, stdout, stderr) = await site.AdminAsync("secondaries", "show", "lisbon", "--output", "json");
        Assert.AreEqual(0, code, stderr);
        var shown = JsonDocument.Parse(stdout).RootElement;
        Assert.AreEqual(1, shown.GetProperty("queued").GetInt64(), "one event waits in lisbon's queue");
        Assert.AreEqual("geo.secondary.lisbon", shown.GetProperty("queue").GetString());
        Assert.AreEqual(3, (await site.AdminAsync("secondaries", "show", "nobody")).ExitCode);
        Assert.AreEqual(2, (await site.AdminAsync("secondaries", "remove", "Not_A_Name")).ExitCode);

        // Removal revokes the token and deletes the queue with what waited in it.
        (code, stdout, stderr) = await site.AdminAsync("secondaries", "remove", "lisbon");
        Assert.AreEqual(0, code, stderr);
        StringAssert.Contains(stdout, "1 undelivered");
        Assert.IsNull(await QueueDepthAsync(site, "geo.secondary.lisbon"));
        using (var revoked = await ReportAsync(site, "lisbon", token, "{}"))
        {
            Assert.AreEqual(HttpStatusCode.Unauthorized, revoked.StatusCode);
        }

        Assert.AreEqual(site.AdminActor, await site.QueryPrimaryAsync<string>("SELECT actor FROM admin_actions WHERE action = 'secondary-remove' AND target = 'lisbon'"));

        (code, _, stderr) = await site.AdminAsync("secondaries", "remove", "lisbon");
        Assert.AreEqual(3, code, "removing an unknown secondary is 'not found'");
        StringAssert.Contains(stderr, "no secondary named 'lisbon'");

        (code, stdout, stderr) = await site.AdminAsync("status", "--output", "json");
        Assert.AreEqual(0, code, stderr + stdout);
        Assert.AreEqual("porto", JsonDocument.Parse(stdout).RootElement.EnumerateArray().Single().GetProperty("name").GetString());
    }

    private static async Task<HttpResponseMessage> RegisterAsync(GeoSite site, string registrationToken, object body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/secondaries") { Content = JsonContent.Create(body) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", registrationToken);
        return await site.Http.SendAsync(request);
    }

    private static async Task<HttpResponseMessage> ReportAsync(GeoSite site, string name, string token, string json)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, $"/api/v1/secondaries/{name}/status") { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await site.Http.SendAsync(request);
    }

    /// <summary>Messages ready in a queue, straight from the broker (no management-API lag); null when it does not exist.</summary>
    private static async Task<uint?> QueueDepthAsync(GeoSite site, string queue)
    {
        await using var connection = await TestServers.RabbitOptions(site.VirtualHost).ConnectionFactory("test").CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        try
        {
            return (await channel.QueueDeclarePassiveAsync(queue)).MessageCount;
        }
        catch (RabbitMQ.Client.Exceptions.OperationInterruptedException)
        {
            return null;
        }
    }
}
