using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Geo.Events.Testing;
using static Geo.Events.Testing.PrimaryRepository;

namespace Geo.Events.IntegrationTests;

/// <summary>What an operator's Prometheus and load balancer see: /metrics and /health on both services.</summary>
[TestClass]
public sealed partial class ObservabilityTests
{
    [GeneratedRegex(@"^(?<name>[a-z_]+)(\{(?<labels>[^}]*)\})? (?<value>[0-9.eE+-]+)$", RegexOptions.Multiline)]
    private static partial Regex Sample();

    /// <summary>The value of one sample in Prometheus' text format, or null when it is absent.</summary>
    public static double? Metric(string text, string name, string labels = "")
    {
        foreach (Match match in Sample().Matches(text))
        {
            if (match.Groups["name"].Value == name && match.Groups["labels"].Value == labels)
            {
                return double.Parse(match.Groups["value"].Value, CultureInfo.InvariantCulture);
            }
        }

        return null;
    }

    private static async Task<string> ScrapeAsync(Uri baseUrl)
    {
        using var http = new HttpClient { BaseAddress = baseUrl };
        return await http.GetStringAsync("/metrics");
    }

    [TestMethod]
    public async Task MetricsFollowAnEventFromTheHookToTheMirror()
    {
        await using var site = await GeoSite.StartAsync(["tokyo"]);
        var (repo, sha) = await site.CreatePushedRepositoryAsync("obs/app", 61, "one");
        using (var rejected = await site.Hooks.PostAsync(Hooks.Push("push", 61, repo.PathWithNamespace, "refs/heads/main", Zero, sha), tokenOverride: "wrong"))
        {
            Assert.AreEqual(HttpStatusCode.Unauthorized, rejected.StatusCode);
        }

        await site.WaitForMirrorsAsync(repo);

        var primary = await ScrapeAsync(site.PrimaryUrl);
        Assert.AreEqual(1, Metric(primary, "geo_events_ingested_total", "type=\"RepositoryChanged\""));
        Assert.AreEqual(1, Metric(primary, "geo_hooks_received_total", "status=\"202\""));
        Assert.AreEqual(1, Metric(primary, "geo_hooks_received_total", "status=\"401\""));
        Assert.AreEqual(1, Metric(primary, "geo_events_published_total", "type=\"RepositoryChanged\""));
        Assert.AreEqual(0, Metric(primary, "geo_outbox_backlog"));

        var secondary = await ScrapeAsync(site.SecondaryUrl("tokyo"));
        Assert.AreEqual(1, Metric(secondary, "geo_events_applied_total", "type=\"RepositoryChanged\",outcome=\"applied\""));
        Assert.AreEqual(1, Metric(secondary, "geo_replication_lag_seconds_count", "type=\"RepositoryChanged\""));
        Assert.AreEqual(1, Metric(secondary, "geo_fetch_duration_seconds_count", "kind=\"clone\""));
        Assert.IsTrue(Metric(secondary, "geo_fetch_bytes_total") > 0, "a clone received no bytes");
        Assert.AreEqual(1, Metric(secondary, "geo_projects", "state=\"synced\""));
        Assert.AreEqual(0, Metric(secondary, "geo_oldest_pending_age_seconds"));
    }

    [TestMethod]
    public async Task ReadinessNamesTheBrokerWhileItIsDown()
    {
        await using var site = await GeoSite.StartAsync(["tokyo"]);
        using var http = new HttpClient { BaseAddress = site.SecondaryUrl("tokyo") };
        await GeoSite.WaitUntilAsync(() => ReadyAsync(http), TimeSpan.FromSeconds(60), () => "geo-secondary never became ready");

        await TestServers.RabbitCtlAsync("stop_app");
        try
        {
            await GeoSite.WaitUntilAsync(async () =>
            {
                using var response = await http.GetAsync("/health/ready");
                return response.StatusCode == HttpStatusCode.ServiceUnavailable
                    && (await response.Content.ReadAsStringAsync()).Contains("rabbitmq", StringComparison.Ordinal);
            }, TimeSpan.FromSeconds(60), () => "readiness did not report the broker as down");
            Assert.AreEqual(HttpStatusCode.OK, (await http.GetAsync("/health/live")).StatusCode, "liveness must not depend on the broker");
        }
        finally
        {
            await TestServers.RabbitCtlAsync("start_app");
            await TestServers.RabbitCtlAsync("await_startup");
        }

        await GeoSite.WaitUntilAsync(() => ReadyAsync(http), TimeSpan.FromSeconds(90), () => "geo-secondary did not become ready again after the broker returned");
    }

    [TestMethod]
    public async Task OneTraceFollowsAnEventFromTheHookThroughTheOutboxToTheSecondary()
    {
        // A hook whose repository does not exist fails on the secondary; its dead letter keeps the headers
        // the secondary received, so it shows which trace arrived there.
        await using var site = await GeoSite.StartAsync(["tokyo"], secondarySettings: new Dictionary<string, string>
        {
            ["Retry:Immediate"] = "none",
            ["Retry:Delays"] = "none",
        });
        var traceId = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray());
        using (var request = new HttpRequestMessage(HttpMethod.Post, "/hooks/system")
        {
            Content = System.Net.Http.Json.JsonContent.Create(Hooks.Push("push", 71, "obs/missing", "refs/heads/main", Zero, new string('b', 40))),
        })
        {
            request.Headers.Add("X-Gitlab-Token", GeoSite.Token);
            request.Headers.Add("traceparent", $"00-{traceId}-{Convert.ToHexStringLower(Guid.NewGuid().ToByteArray())[..16]}-01");
            using var response = await site.Http.SendAsync(request);
            Assert.AreEqual(HttpStatusCode.Accepted, response.StatusCode);
        }

        await GeoSite.WaitUntilAsync(async () => await site.QueryPrimaryAsync<long>("SELECT count(*) FROM dead_letters") == 1,
            TimeSpan.FromSeconds(60), () => "the failing event never reached the dead letters");
        var carried = await site.QueryPrimaryAsync<long>(
            "SELECT count(*) FROM dead_letters WHERE headers::text LIKE '%' || @traceId || '%' OR convert_from(body, 'UTF8') LIKE '%' || @traceId || '%'",
            new { traceId });
        Assert.AreEqual(1L, carried, "the message that reached the secondary does not carry the hook request's trace");
    }

    private static async Task<bool> ReadyAsync(HttpClient http)
    {
        try
        {
            using var response = await http.GetAsync("/health/ready");
            return response.IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false; // not listening yet
        }
    }
}
