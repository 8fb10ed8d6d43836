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
    public async Task WithStageTraceSetOnePushAndOneKeyLeaveOneLinePerStageInOrderOnBothSides()
    {
        var folder = Directory.CreateTempSubdirectory("geo-stage-trace-").FullName;
        try
        {
            var primaryTrace = Path.Combine(folder, "primary.log");
            var secondaryTrace = Path.Combine(folder, "tokyo.log");
            await using var site = await GeoSite.StartAsync(["tokyo"],
                secondarySettings: new Dictionary<string, string> { ["Observability:StageTrace"] = secondaryTrace },
                primarySettings: new Dictionary<string, string> { ["Observability:StageTrace"] = primaryTrace });
            var repo = await site.CreateRepositoryAsync("obs/traced");
            var (_, push) = await site.PushWithHookAsync(repo, 81, "one");
            var key = await site.Hooks.AcceptedAsync(new System.Text.Json.Nodes.JsonObject
            {
                ["event_name"] = "key_create",
                ["id"] = 82,
                ["username"] = "traced",
                ["key"] = TestKeys.RandomEd25519(),
            });
            await site.WaitForMirrorsAsync(repo);
            await GeoSite.WaitUntilAsync(async () => await site.QuerySecondaryAsync<long>("tokyo", "SELECT count(*) FROM ssh_keys WHERE key_id = 82") == 1,
                TimeSpan.FromSeconds(90), () => "the key never reached tokyo");

            // The lines are written by a background task: wait until each side has written the last stage it will.
            static List<string[]> Lines(string path) => File.Exists(path)
                ? [.. File.ReadAllLines(path).Select(l => l.Split(' '))]
                : [];
            static List<string> Stages(List<string[]> lines, long sequence) => [.. lines.Where(l => l[2] == sequence.ToString(CultureInfo.InvariantCulture)).Select(l => l[1])];
            await GeoSite.WaitUntilAsync(() => Task.FromResult(Stages(Lines(primaryTrace), key).Contains("published") && Stages(Lines(secondaryTrace), key).Contains("applied")
                    && Stages(Lines(secondaryTrace), push).Contains("applied")),
                TimeSpan.FromSeconds(30), () => $"the traces never completed:\n{string.Join('\n', Lines(primaryTrace).Select(l => string.Join(' ', l)))}\n--\n{string.Join('\n', Lines(secondaryTrace).Select(l => string.Join(' ', l)))}");

            var primary = Lines(primaryTrace);
            var secondary = Lines(secondaryTrace);
            CollectionAssert.AreEqual(new[] { "received", "committed", "published" }, Stages(primary, push));
            CollectionAssert.AreEqual(new[] { "received", "committed", "published" }, Stages(primary, key));
            CollectionAssert.AreEqual(new[] { "delivered", "started", "fetched", "applied" }, Stages(secondary, push));
            CollectionAssert.AreEqual(new[] { "delivered", "applied" }, Stages(secondary, key));
            Assert.AreEqual(3 + 3, primary.Count, "geo-primary: one line per event and stage, no other");
            Assert.AreEqual(4 + 2, secondary.Count, "geo-secondary: one line per event and stage, no other");

            // Within each process an event's times follow its stages. (Across the two they need not: the broker may
            // deliver a message before its confirm reaches geo-primary.)
            foreach (var (lines, sequence) in new[] { (primary, push), (primary, key), (secondary, push), (secondary, key) })
            {
                var times = lines.Where(l => l[2] == sequence.ToString(CultureInfo.InvariantCulture))
                    .Select(l => DateTime.Parse(l[0], CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind)).ToList();
                CollectionAssert.AreEqual(times.Order().ToList(), times, $"event {sequence}: stages out of time order");
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
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
        // Both processes export their spans over OTLP/HTTP to a collector of our own, so the test sees each
        // span's parent: the spans must join, hook request → outbox publish → broker → secondary, not merely
        // carry the same trace id.
        var spans = new System.Collections.Concurrent.ConcurrentQueue<Span>();
        var (collector, collectorUrl) = await LoopbackServer.StartAsync(async http =>
        {
            using var body = new MemoryStream();
            await http.Request.Body.CopyToAsync(body);
            if (http.Request.Path == "/v1/traces")
            {
                foreach (var span in Span.ParseExportRequest(body.ToArray()))
                {
                    spans.Enqueue(span);
                }
            }

            http.Response.ContentType = "application/x-protobuf"; // an empty ExportTraceServiceResponse
        });
        var otel = new Dictionary<string, string>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = collectorUrl.ToString().TrimEnd('/'),
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
        };
        foreach (var (name, value) in otel)
        {
            Environment.SetEnvironmentVariable(name, value); // inherited by the processes the site starts
        }

        try
        {
            // A hook whose repository does not exist fails on the secondary; its dead letter keeps the headers
            // the secondary received.
            await using var site = await GeoSite.StartAsync(["tokyo"], secondarySettings: new Dictionary<string, string>
            {
                ["Retry:Immediate"] = "none",
                ["Retry:Delays"] = "none",
            });
            var traceId = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray());
            var callerSpan = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray())[..16];
            using (var request = new HttpRequestMessage(HttpMethod.Post, "/hooks/system")
            {
                Content = System.Net.Http.Json.JsonContent.Create(Hooks.Push("push", 71, "obs/missing", "refs/heads/main", Zero, new string('b', 40))),
            })
            {
                request.Headers.Add("X-Gitlab-Token", GeoSite.Token);
                request.Headers.Add("traceparent", $"00-{traceId}-{callerSpan}-01");
                using var response = await site.Http.SendAsync(request);
                Assert.AreEqual(HttpStatusCode.Accepted, response.StatusCode);
            }

            await GeoSite.WaitUntilAsync(async () => await site.QueryPrimaryAsync<long>("SELECT count(*) FROM dead_letters") == 1,
                TimeSpan.FromSeconds(60), () => "the failing event never reached the dead letters");
            var headers = await site.QueryPrimaryAsync<string>("SELECT headers::text FROM dead_letters");
            var received = Regex.Match(headers, $"00-{traceId}-(?<span>[0-9a-f]{{16}})-0[01]");
            Assert.IsTrue(received.Success, $"the message that reached the secondary does not carry the hook request's trace: {headers}");
            var messageSpan = received.Groups["span"].Value;

            // From the span the message carried, parent by parent, back to the caller's span; and a span of the
            // secondary's whose parent is the message's.
            string Chain()
            {
                var byId = spans.Where(x => x.TraceId == traceId).GroupBy(x => x.SpanId).ToDictionary(g => g.Key, g => g.First());
                var chain = new List<string>();
                for (var id = messageSpan; byId.TryGetValue(id, out var span); id = span.ParentSpanId)
                {
                    chain.Add($"{span.Name} ({span.SpanId} ← {span.ParentSpanId})");
                    if (span.ParentSpanId == callerSpan)
                    {
                        return spans.Any(x => x.TraceId == traceId && x.ParentSpanId == messageSpan) ? "" : "no span is a child of the message's";
                    }
                }

                return $"the spans from the message's back do not reach the caller's span {callerSpan}: {string.Join(" → ", chain)}; exported in the trace: "
                    + string.Join(", ", spans.Where(x => x.TraceId == traceId).Select(x => $"{x.Name} ({x.SpanId} ← {x.ParentSpanId})"));
            }

            await GeoSite.WaitUntilAsync(() => Task.FromResult(Chain().Length == 0), TimeSpan.FromSeconds(60), Chain);
            var hops = 0;
            var all = spans.Where(x => x.TraceId == traceId).GroupBy(x => x.SpanId).ToDictionary(g => g.Key, g => g.First());
            for (var id = messageSpan; id != callerSpan; id = all[id].ParentSpanId)
            {
                hops++;
            }

            Assert.IsTrue(hops >= 3, $"only {hops} spans between the caller and the message: the hook request's and the outbox publish's should both be there");
        }
        finally
        {
            foreach (var name in otel.Keys)
            {
                Environment.SetEnvironmentVariable(name, null);
            }

            await collector.DisposeAsync();
        }
    }

    /// <summary>
    /// One span of an OTLP ExportTraceServiceRequest (opentelemetry-proto, trace/v1/trace.proto): only the
    /// ids and the name, read straight from the protobuf wire format.
    /// </summary>
    private sealed record Span(string TraceId, string SpanId, string ParentSpanId, string Name)
    {
        public static IEnumerable<Span> ParseExportRequest(byte[] body) =>
            from resourceSpans in Fields(body, 1)
            from scopeSpans in Fields(resourceSpans, 2)
            from span in Fields(scopeSpans, 2)
            select new Span(
                Convert.ToHexStringLower(Fields(span, 1).FirstOrDefault() ?? []),
                Convert.ToHexStringLower(Fields(span, 2).FirstOrDefault() ?? []),
                Convert.ToHexStringLower(Fields(span, 4).FirstOrDefault() ?? []),
                System.Text.Encoding.UTF8.GetString(Fields(span, 5).FirstOrDefault() ?? []));

        /// <summary>The values of the length-delimited fields numbered <paramref name="number"/>; others skipped.</summary>
        private static List<byte[]> Fields(byte[] message, int number)
        {
            var found = new List<byte[]>();
            var i = 0;
            while (i < message.Length)
            {
                var tag = Varint(message, ref i);
                switch (tag & 7)
                {
                    case 0:
                        Varint(message, ref i);
                        break;
                    case 1:
                        i += 8;
                        break;
                    case 5:
                        i += 4;
                        break;
                    case 2:
                        var length = (int)Varint(message, ref i);
                        if ((int)(tag >> 3) == number)
                        {
                            found.Add(message[i..(i + length)]);
                        }

                        i += length;
                        break;
                    default:
                        throw new FormatException($"wire type {tag & 7} in an OTLP request");
                }
            }

            return found;
        }

        private static ulong Varint(byte[] message, ref int i)
        {
            ulong value = 0;
            for (var shift = 0; ; shift += 7)
            {
                var b = message[i++];
                value |= (ulong)(b & 0x7f) << shift;
                if (b < 0x80)
                {
                    return value;
                }
            }
        }
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
