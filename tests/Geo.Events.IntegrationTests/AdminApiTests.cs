using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Geo.Events.Testing;

namespace Geo.Events.IntegrationTests;

/// <summary>
/// geo-primary's admin API (<c>/api/v1/admin/…</c>) and status page (<c>/admin</c>): admin tokens made by
/// <c>geo-primary admin-token</c>, kept as hashes, scopes <c>read</c> and <c>admin</c>, and geo-admin using the API
/// with no database or broker credentials.
/// </summary>
[TestClass]
public sealed class AdminApiTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    [TestMethod]
    public async Task AdminTokensAreHashedScopedAndRevocableAndGeoAdminNeedsNothingElse()
    {
        await using var site = await GeoSite.StartAsync(["izu"], register: true);
        var (repo, _) = await site.CreatePushedRepositoryAsync("api/app", 91);
        await site.WaitForMirrorsAsync(repo);

        var (code, readToken, stderr) = await PrimaryCliAsync(site, "admin-token", "create", "--scope", "read", "--name", "grafana");
        Assert.AreEqual(0, code, stderr);
        readToken = readToken.Trim();
        (code, var adminToken, stderr) = await PrimaryCliAsync(site, "admin-token", "create", "--scope", "admin", "--name", "ops");
        Assert.AreEqual(0, code, stderr);
        adminToken = adminToken.Trim();
        Assert.AreEqual(1, (await PrimaryCliAsync(site, "admin-token", "create", "--scope", "read", "--name", "grafana")).ExitCode, "a name is taken once");
        Assert.AreEqual(2, (await PrimaryCliAsync(site, "admin-token", "create", "--scope", "root", "--name", "x")).ExitCode, "an unknown scope is a usage error");

        // Only hashes are stored.
        Assert.AreEqual(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(readToken))),
            await site.QueryPrimaryAsync<string>("SELECT token_sha256 FROM admin_tokens WHERE name = 'grafana'"));
        Assert.AreEqual(0L, await site.QueryPrimaryAsync<long>("SELECT count(*) FROM admin_tokens WHERE token_sha256 IN (@readToken, @adminToken)", new { readToken, adminToken }));

        // 401 without a token or with a wrong one, 403 for a read token that acts, 202 for an admin token, recorded by name.
        Assert.AreEqual(HttpStatusCode.Unauthorized, await StatusCodeAsync(site, HttpMethod.Get, "/api/v1/admin/status", null));
        Assert.AreEqual(HttpStatusCode.Unauthorized, await StatusCodeAsync(site, HttpMethod.Get, "/api/v1/admin/status", "geo_wrong"));
        Assert.AreEqual(HttpStatusCode.OK, await StatusCodeAsync(site, HttpMethod.Get, "/api/v1/admin/status", readToken));
        Assert.AreEqual(HttpStatusCode.Forbidden, await StatusCodeAsync(site, HttpMethod.Post, "/api/v1/admin/secondaries/izu/verify", readToken));
        Assert.AreEqual(0L, await site.QueryPrimaryAsync<long>("SELECT count(*) FROM secondary_requests"), "a refused action leaves nothing behind");
        // HTTP Basic is for the pages only: a browser would resend a cached Basic login with any cross-site form post.
        Assert.AreEqual(HttpStatusCode.Unauthorized, await StatusCodeAsync(site, HttpMethod.Post, "/api/v1/admin/secondaries/izu/verify", adminToken, basic: true));
        Assert.AreEqual(HttpStatusCode.Accepted, await StatusCodeAsync(site, HttpMethod.Post, "/api/v1/admin/secondaries/izu/verify", adminToken));
        Assert.AreEqual("admin-token:ops", await site.QueryPrimaryAsync<string>("SELECT requested_by FROM secondary_requests"));
        Assert.AreEqual(HttpStatusCode.NotFound, await StatusCodeAsync(site, HttpMethod.Post, "/api/v1/admin/secondaries/nobody/verify", adminToken));
        Assert.AreEqual(HttpStatusCode.BadRequest, await StatusCodeAsync(site, HttpMethod.Get, "/api/v1/admin/status?maxLag=soon", readToken));

        // Dead letters and secondaries: read to look, admin to act; bad input a 400.
        Assert.AreEqual(HttpStatusCode.Unauthorized, await StatusCodeAsync(site, HttpMethod.Get, "/api/v1/admin/dead-letters", null));
        Assert.AreEqual(HttpStatusCode.OK, await StatusCodeAsync(site, HttpMethod.Get, "/api/v1/admin/dead-letters", readToken));
        Assert.AreEqual(HttpStatusCode.OK, await StatusCodeAsync(site, HttpMethod.Get, "/api/v1/admin/dead-letters/history", readToken));
        Assert.AreEqual(HttpStatusCode.NotFound, await StatusCodeAsync(site, HttpMethod.Get, "/api/v1/admin/dead-letters/12345", readToken));
        Assert.AreEqual(HttpStatusCode.BadRequest, await StatusCodeAsync(site, HttpMethod.Get, "/api/v1/admin/dead-letters?state=gone", readToken));
        Assert.AreEqual(HttpStatusCode.BadRequest, await StatusCodeAsync(site, HttpMethod.Get, "/api/v1/admin/dead-letters?since=yesterday", readToken));
        Assert.AreEqual(HttpStatusCode.Forbidden, await StatusCodeAsync(site, HttpMethod.Post, "/api/v1/admin/dead-letters/replay", readToken, body: "{\"all\":true}"));
        Assert.AreEqual(HttpStatusCode.Forbidden, await StatusCodeAsync(site, HttpMethod.Post, "/api/v1/admin/dead-letters/delete", readToken, body: "{\"all\":true}"));
        Assert.AreEqual(HttpStatusCode.BadRequest, await StatusCodeAsync(site, HttpMethod.Post, "/api/v1/admin/dead-letters/replay", adminToken, body: "{}"));
        Assert.AreEqual(HttpStatusCode.BadRequest, await StatusCodeAsync(site, HttpMethod.Post, "/api/v1/admin/dead-letters/replay", adminToken, body: "{\"ids\":\"x\"}"));
        Assert.AreEqual(HttpStatusCode.OK, await StatusCodeAsync(site, HttpMethod.Get, "/api/v1/admin/secondaries", readToken));
        Assert.AreEqual(HttpStatusCode.OK, await StatusCodeAsync(site, HttpMethod.Get, "/api/v1/admin/secondaries/izu/registration", readToken));
        Assert.AreEqual(HttpStatusCode.Forbidden, await StatusCodeAsync(site, HttpMethod.Delete, "/api/v1/admin/secondaries/izu", readToken));
        Assert.AreEqual(HttpStatusCode.BadRequest, await StatusCodeAsync(site, HttpMethod.Delete, "/api/v1/admin/secondaries/Bad_Name", adminToken));
        Assert.AreEqual(HttpStatusCode.NotFound, await StatusCodeAsync(site, HttpMethod.Delete, "/api/v1/admin/secondaries/nobody", adminToken));
        Assert.AreEqual(1L, await site.QueryPrimaryAsync<long>("SELECT count(*) FROM secondaries WHERE name = 'izu'"), "a refused removal leaves the secondary registered");

        // geo-admin status through the API, with PostgreSQL and RabbitMQ settings that lead nowhere.
        var (adminCode, stdout, adminErr) = await GeoAdminOverApiAsync(site, readToken, "status", "--output", "json");
        Assert.AreEqual(0, adminCode, adminErr + stdout);
        var row = JsonDocument.Parse(stdout).RootElement.EnumerateArray().Single();
        Assert.AreEqual("izu", row.GetProperty("name").GetString());
        Assert.AreEqual("ok", row.GetProperty("verdict").GetString());
        Assert.AreEqual(0, row.GetProperty("queued").GetInt64());

        foreach (var look in new[] { new[] { "dlq", "list" }, ["dlq", "history"], ["secondaries", "list"], ["secondaries", "show", "izu"], ["events", "--project", "91"] })
        {
            (adminCode, stdout, adminErr) = await GeoAdminOverApiAsync(site, readToken, look);
            Assert.AreEqual(0, adminCode, $"geo-admin {string.Join(' ', look)}: {adminErr}{stdout}");
        }

        StringAssert.Contains(stdout, "api/app");
        (adminCode, stdout, adminErr) = await GeoAdminOverApiAsync(site, readToken, "dlq", "replay", "--all");
        Assert.AreEqual(7, adminCode, adminErr + stdout);
        StringAssert.Contains(adminErr, "403");

        // Acting through the API takes the admin token and is recorded with its name; a read token is refused (exit 7).
        (adminCode, stdout, adminErr) = await GeoAdminOverApiAsync(site, readToken, "verify", "izu", "--no-wait");
        Assert.AreEqual(7, adminCode, adminErr + stdout);
        StringAssert.Contains(adminErr, "403");
        (adminCode, stdout, adminErr) = await GeoAdminOverApiAsync(site, adminToken, "resync", "api/app", "--secondary", "izu", "--no-wait", "--output", "json");
        Assert.AreEqual(0, adminCode, adminErr + stdout);
        Assert.AreEqual(91L, await site.QueryPrimaryAsync<long>("SELECT project_id FROM secondary_requests WHERE kind = 'resync'"));
        Assert.AreEqual("admin-token:ops", await site.QueryPrimaryAsync<string>("SELECT requested_by FROM secondary_requests WHERE kind = 'resync'"));
        (adminCode, stdout, adminErr) = await GeoAdminOverApiAsync(site, adminToken, "verify", "izu", "--timeout", "60s", "--output", "json");
        Assert.AreEqual(0, adminCode, adminErr + stdout);
        StringAssert.Contains(stdout, "\"state\": \"finished\"");

        // Revoked, the token opens nothing: exit 7 for scripts.
        Assert.AreEqual(0, (await PrimaryCliAsync(site, "admin-token", "revoke", "--name", "grafana")).ExitCode);
        (adminCode, stdout, adminErr) = await GeoAdminOverApiAsync(site, readToken, "status");
        Assert.AreEqual(7, adminCode, adminErr + stdout);
        StringAssert.Contains(adminErr, "401");
        Assert.AreEqual(0L, await site.QueryPrimaryAsync<long>("SELECT count(*) FROM admin_tokens WHERE name = 'grafana'"));
    }

    [TestMethod]
    public async Task TheStatusPageShowsASecondaryFallingBehindAndRecovering()
    {
        await using var site = await GeoSite.StartAsync(["oita"], register: true);
        var (repo, sha) = await site.CreatePushedRepositoryAsync("page/app", 95);
        await site.WaitForMirrorsAsync(repo);
        var (_, token, _) = await PrimaryCliAsync(site, "admin-token", "create", "--scope", "read", "--name", "browser");
        token = token.Trim();

        // A browser without the token is asked for it (HTTP Basic).
        using (var anonymous = await site.Http.GetAsync("/admin"))
        {
            Assert.AreEqual(HttpStatusCode.Unauthorized, anonymous.StatusCode);
            StringAssert.StartsWith(anonymous.Headers.WwwAuthenticate.ToString(), "Basic");
        }

        // ok, and the first push reported applied: otherwise it would still count as unapplied once oita is killed.
        var page = await WaitForPageAsync(site, token, "/admin?maxLag=3s", html => html.Contains("<td class=\"verdict\">ok</td>", StringComparison.Ordinal)
            && html.Contains("<td class=\"unapplied\">0</td>", StringComparison.Ordinal));
        StringAssert.Contains(page, "data-secondary=\"oita\"");

        await site.KillSecondaryAsync("oita");
        for (var i = 0; i < 3; i++)
        {
            (sha, _) = await site.PushWithHookAsync(repo, 95, $"while oita is down {i}", sha);
        }

        page = await WaitForPageAsync(site, token, "/admin?maxLag=3s", html => html.Contains("<td class=\"verdict\">behind</td>", StringComparison.Ordinal));
        StringAssert.Contains(page, "<td class=\"unapplied\">3</td>");
        await File.WriteAllTextAsync(Path.Combine(site.Root, "status-page-behind.html"), page);
        var detail = await WaitForPageAsync(site, token, "/admin/secondaries/oita?maxLag=3s", html => html.Contains("behind", StringComparison.Ordinal));
        StringAssert.Contains(detail, "unapplied events</th><td>3</td>");

        site.StartSecondary("oita");
        await site.WaitForMirrorsAsync(repo);
        page = await WaitForPageAsync(site, token, "/admin?maxLag=3s", html => html.Contains("<td class=\"verdict\">ok</td>", StringComparison.Ordinal));
        StringAssert.Contains(page, "<td class=\"unapplied\">0</td>");
        await File.WriteAllTextAsync(Path.Combine(site.Root, "status-page-recovered.html"), page);

        // The project's page asks every secondary (at the URL it registered) about its mirror.
        await site.QueryPrimaryAsync<int>("UPDATE secondaries SET url = @url WHERE name = 'oita' RETURNING 1", new { url = site.SecondaryUrl("oita").ToString() });
        var project = await WaitForPageAsync(site, token, "/admin/projects/95", html => html.Contains("<td class=\"uptodate\">yes</td>", StringComparison.Ordinal));
        var checksums = System.Text.RegularExpressions.Regex.Matches(project, "<td class=\"checksum\">(v1:[0-9a-f]{64})</td>").Select(m => m.Groups[1].Value).ToList();
        Assert.AreEqual(2, checksums.Count, project);
        Assert.AreEqual(checksums[0], checksums[1], "the primary's and the mirror's refs checksums are shown, and equal");
        await repo.CommitAndPushAsync("no hook for this one");
        project = await WaitForPageAsync(site, token, "/admin/projects/95", html => html.Contains("1 of the primary", StringComparison.Ordinal));
        StringAssert.Contains(project, "<td class=\"uptodate\">no: ");
    }

    public TestContext TestContext { get; set; } = null!;

    /// <summary>
    /// The page in a real browser (Debian's chromium, headless): opened once with a read token as the HTTP Basic login,
    /// it reloads itself and shows the secondary falling behind while it is stopped and recovering once restarted;
    /// screenshots of both states (and of the secondary's and the project's pages) are kept under
    /// /tmp/geo-events-tests/artifacts/, their paths printed in the test's output.
    /// </summary>
    [TestMethod]
    public async Task InABrowserTheStatusPageRefreshesItselfAsASecondaryFallsBehindAndRecovers()
    {
        if (HeadlessChromium.Executable is null)
        {
            Assert.Inconclusive("skipped: chromium is not installed (infra/local/up installs Debian's chromium package; it could not here)");
        }

        await using var site = await GeoSite.StartAsync(["nara"], register: true);
        var (repo, sha) = await site.CreatePushedRepositoryAsync("browser/app", 97);
        await site.WaitForMirrorsAsync(repo);
        var (_, token, _) = await PrimaryCliAsync(site, "admin-token", "create", "--scope", "read", "--name", "browser");
        var artifacts = Path.Combine(Path.GetTempPath(), "geo-events-tests", "artifacts", $"status-page-{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Guid.NewGuid():N}"[..48]);
        Directory.CreateDirectory(artifacts);

        await using var browser = await HeadlessChromium.StartAsync(site.Root);
        await browser.SetHeadersAsync(new Dictionary<string, string>
        {
            ["Authorization"] = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("browser:" + token.Trim())),
        });
        await browser.NavigateAsync(new Uri(site.PrimaryUrl, "/admin?maxLag=3s"));
        const string Row = "document.querySelector('tr[data-secondary=\"nara\"] td.verdict')?.innerText + '/' + document.querySelector('tr[data-secondary=\"nara\"] td.unapplied')?.innerText";
        await WaitInBrowserAsync(browser, Row, "ok/0");
        var firstLoad = await browser.EvaluateAsync("String(performance.timeOrigin)");

        await site.KillSecondaryAsync("nara");
        for (var i = 0; i < 3; i++)
        {
            (sha, _) = await site.PushWithHookAsync(repo, 97, $"while nara is down {i}", sha);
        }

        // No navigation from here on: what changes on screen, the page fetched by itself.
        await WaitInBrowserAsync(browser, Row, "behind/3");
        Assert.AreNotEqual(firstLoad, await browser.EvaluateAsync("String(performance.timeOrigin)"), "the page did not reload itself");
        StringAssert.Contains(await browser.TextAsync(), "3 events wait for it");
        await ScreenshotAsync(browser, Path.Combine(artifacts, "status-page-behind.png"));

        site.StartSecondary("nara");
        await site.WaitForMirrorsAsync(repo);
        await WaitInBrowserAsync(browser, Row, "ok/0");
        await ScreenshotAsync(browser, Path.Combine(artifacts, "status-page-recovered.png"));

        // A page per secondary and per project, reached from the overview.
        await browser.NavigateAsync(new Uri(site.PrimaryUrl, "/admin/secondaries/nara"));
        await WaitInBrowserAsync(browser, "document.querySelector('#secondary') ? 'loaded' : ''", "loaded");
        StringAssert.Contains(await browser.TextAsync(), "unapplied events\t0");
        await ScreenshotAsync(browser, Path.Combine(artifacts, "status-page-secondary.png"));
        await site.QueryPrimaryAsync<int>("UPDATE secondaries SET url = @url WHERE name = 'nara' RETURNING 1", new { url = site.SecondaryUrl("nara").ToString() });
        await browser.NavigateAsync(new Uri(site.PrimaryUrl, "/admin/projects?project=browser/app"));
        await WaitInBrowserAsync(browser, "document.querySelector('tr[data-secondary=\"nara\"] td.uptodate')?.innerText ?? ''", "yes");
        StringAssert.EndsWith(await browser.EvaluateAsync("location.pathname"), "/admin/projects/97");
        StringAssert.EndsWith(await browser.EvaluateAsync("document.querySelector('tr[data-secondary=\"nara\"] td.lastsync').innerText"), " ago");
        await ScreenshotAsync(browser, Path.Combine(artifacts, "status-page-project.png"));
    }

    private async Task ScreenshotAsync(HeadlessChromium browser, string path)
    {
        await browser.ScreenshotAsync(path);
        var png = await File.ReadAllBytesAsync(path);
        Assert.IsTrue(png.Length > 1000 && png[1] == (byte)'P' && png[2] == (byte)'N' && png[3] == (byte)'G', $"{path} is not a PNG");
        TestContext.WriteLine($"screenshot: {path}");
        TestContext.AddResultFile(path);
    }

    private static async Task WaitInBrowserAsync(HeadlessChromium browser, string expression, string expected)
    {
        var seen = "";
        await GeoSite.WaitUntilAsync(async () =>
        {
            try
            {
                seen = await browser.EvaluateAsync(expression);
            }
            catch (InvalidOperationException e) when (e.Message.Contains("refused", StringComparison.Ordinal))
            {
                seen = "(page reloading: " + e.Message + ")"; // the document was replaced while we asked
            }

            return seen == expected;
        }, Timeout, () => $"the browser showed '{seen}', not '{expected}'");
    }

    private static async Task<string> WaitForPageAsync(GeoSite site, string token, string path, Func<string, bool> condition)
    {
        var html = "";
        await GeoSite.WaitUntilAsync(async () =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("anyone:" + token)));
            using var response = await site.Http.SendAsync(request);
            Assert.AreEqual(HttpStatusCode.OK, response.StatusCode);
            html = await response.Content.ReadAsStringAsync();
            return condition(html);
        }, Timeout, () => $"{path} never showed what was expected:\n{html}");
        return html;
    }

    private static async Task<HttpStatusCode> StatusCodeAsync(GeoSite site, HttpMethod method, string path, string? token, bool basic = false, string? body = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }

        if (token is not null)
        {
            request.Headers.Authorization = basic
                ? new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("anyone:" + token)))
                : new AuthenticationHeaderValue("Bearer", token);
        }

        using var response = await site.Http.SendAsync(request);
        return response.StatusCode;
    }

    private static Task<(int ExitCode, string Stdout, string Stderr)> PrimaryCliAsync(GeoSite site, params string[] args) =>
        RunAsync("Geo.Events.Primary", "geo-primary.dll", new Dictionary<string, string>
        {
            ["GEO_ConnectionStrings__Postgres"] = TestServers.ConnectionString(site.PrimaryDatabase),
        }, args);

    /// <summary>geo-admin with the admin API's URL and token, and database and broker settings that cannot work.</summary>
    private static Task<(int ExitCode, string Stdout, string Stderr)> GeoAdminOverApiAsync(GeoSite site, string token, params string[] args) =>
        RunAsync("Geo.Events.Admin", "geo-admin.dll", new Dictionary<string, string>
        {
            ["GEO_ADMIN_TOKEN"] = token,
            ["GEO_ConnectionStrings__Postgres"] = "Host=127.0.0.1;Port=1;Username=nobody;Password=nothing;Database=nothing;Timeout=1",
            ["GEO_RabbitMq__Port"] = "1",
            ["GEO_RabbitMq__Password"] = "nothing",
        }, ["--url", site.PrimaryUrl.ToString(), .. args]);

    private static Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string project, string dll, Dictionary<string, string> environment, string[] args) =>
        Shell.RunCapturedAsync("dotnet", [Path.Combine(TestServers.RepoRoot, "src", project, "bin", TestServers.Configuration, "net10.0", dll), .. args], environment);
}
