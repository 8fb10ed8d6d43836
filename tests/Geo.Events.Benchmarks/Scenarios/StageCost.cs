using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Geo.Events.Testing;

namespace Geo.Events.Benchmarks.Scenarios;

/// <summary>
/// Scenario 13, the cost of each stage: per event type, the CPU each process spends per event (its own
/// utime + stime from /proc over the phase), and the lag split into stages from Observability:StageTrace's lines
/// (geo-primary: received, committed, published; each geo-secondary: delivered, started, fetched, applied) and the
/// harness's own clock when it sends the hook. Pushes at a realistic load (10/s over 1,000 repositories) and at the
/// peak (100/s over 100 of them), with 1 and with 3 secondaries.
/// </summary>
public static class StageCost
{
    /// <summary>Stages in pipeline order: name, from, to. Every event type goes through these first.</summary>
    private static readonly (string Name, string From, string To)[] DeliveryStages =
    [
        ("hook sent → received", "sent", "received"),
        ("received → committed", "received", "committed"),
        ("committed → published (broker confirm)", "committed", "published"),
        ("published → delivered", "published", "delivered"),
    ];

    private static readonly (string Name, string From, string To) EndToEnd = ("end to end: hook sent → applied", "sent", "applied");

    /// <summary>A push's stages on the secondary (a sync stage's time is the covering sync's).</summary>
    private static readonly (string Name, string From, string To)[] PushStages =
    [
        .. DeliveryStages,
        ("delivered → sync started (window, slot, lock)", "delivered", "started"),
        ("sync started → fetch done", "started", "fetched"),
        ("fetch done → applied", "fetched", "applied"),
        EndToEnd,
    ];

    private static readonly (string Name, string From, string To)[] KeyStages = [.. DeliveryStages, ("delivered → applied", "delivered", "applied"), EndToEnd];

    private static readonly HashSet<string> PrimaryStages = ["received", "committed", "published"];

    public static async Task<List<Figure>> RunAsync(bool quick, int runs, Action<string> say)
    {
        var repositories = quick ? 100 : 1_000;
        var peakRepositories = quick ? 10 : 100;
        var realistic = (Rate: quick ? 5 : 10, Duration: TimeSpan.FromSeconds(quick ? 5 : 30));
        var peak = (Rate: quick ? 20 : 100, Duration: TimeSpan.FromSeconds(quick ? 5 : 20));
        var keys = quick ? 300 : 3_000;
        var figures = new List<Figure>();
        foreach (var sites in new[] { new[] { "tokyo" }, KeysPipeline.Sites })
        {
            var label = $"{sites.Length} secondar{(sites.Length == 1 ? "y" : "ies")}";
            say($"cost per stage, {label}: {repositories} repositories cloned first");
            await using var bench = await TracedSite.StartAsync(sites, repositories, 13_000_000L);
            say($"cost per stage, {label}: warm-up (not counted), then idle CPU");
            await KeysAsync(bench, keys / 10, 13_500_000L);
            await PushesAsync(bench, peakRepositories, peak.Rate, TimeSpan.FromSeconds(quick ? 2 : 5));
            var idle = await IdleCpuMsPerSecondAsync(bench, TimeSpan.FromSeconds(quick ? 3 : 10));
            foreach (var (process, ms) in idle)
            {
                figures.Add(new Figure($"{label}, idle: {process} CPU", "ms/s", [ms]));
            }

            var phases = new Dictionary<string, List<Phase>> { ["key_create"] = [], ["push, realistic"] = [], ["push, peak"] = [] };
            for (var run = 0; run < runs; run++)
            {
                say($"cost per stage, {label}, run {run + 1}: {keys} key_create hooks, 16 at a time");
                phases["key_create"].Add(await KeysAsync(bench, keys, 14_000_000L + (run * 100_000L)));
                say($"cost per stage, {label}, run {run + 1}: {realistic.Rate} pushes/s over {repositories} repositories for {realistic.Duration.TotalSeconds} s");
                phases["push, realistic"].Add(await PushesAsync(bench, repositories, realistic.Rate, realistic.Duration));
                say($"cost per stage, {label}, run {run + 1}: {peak.Rate} pushes/s over {peakRepositories} repositories for {peak.Duration.TotalSeconds} s");
                phases["push, peak"].Add(await PushesAsync(bench, peakRepositories, peak.Rate, peak.Duration));
            }

            figures.Add(new Figure($"{label}: hooks answered 503 and sent again (whole site)", "hooks", [bench.Refused]));
            foreach (var (name, measured) in phases)
            {
                var load = name switch
                {
                    "push, realistic" => $"{name} ({realistic.Rate}/s over {repositories})",
                    "push, peak" => $"{name} ({peak.Rate}/s over {peakRepositories})",
                    _ => $"{name} ({keys}, 16 at a time)",
                };
                foreach (var (stage, _, _) in name == "key_create" ? KeyStages : PushStages)
                {
                    var percentiles = stage.StartsWith("end to end", StringComparison.Ordinal) ? new[] { 50, 95, 99 } : [50, 99];
                    foreach (var p in percentiles)
                    {
                        figures.Add(new Figure($"{label}, {load}: {stage}, p{p}", "ms", measured.Select(m => Stats.Percentile(m.StageMs[stage], p)).ToList()));
                    }
                }

                foreach (var process in measured[0].CpuMsPerEvent.Keys)
                {
                    figures.Add(new Figure($"{label}, {load}: {process} CPU per event", "ms", measured.Select(m => m.CpuMsPerEvent[process]).ToList()));
                }

                if (name == "key_create")
                {
                    figures.Add(new Figure($"{label}, {load}: rate, first hook → applied everywhere", "events/s", measured.Select(m => m.EventsPerSecond).ToList()));
                }
            }
        }

        return figures;
    }

    /// <summary>One measured phase: per-event stage times pooled over the secondaries, and CPU per event per process.</summary>
    public sealed record Phase(Dictionary<string, List<double>> StageMs, Dictionary<string, double> CpuMsPerEvent, double EventsPerSecond);

    private sealed record Sent(long Sequence, long ProjectId, DateTime At);

    private static async Task<Phase> KeysAsync(TracedSite bench, int events, long firstKeyId)
    {
        var keys = Enumerable.Range(0, events).Select(_ => TestKeys.RandomEd25519()).ToArray();
        var sent = new ConcurrentBag<Sent>();
        var before = Cpu.Take(bench);
        var clock = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, events), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, _) =>
        {
            var at = DateTime.UtcNow;
            var sequence = await bench.AcceptedAsync(new JsonObject
            {
                ["event_name"] = "key_create",
                ["id"] = firstKeyId + i,
                ["username"] = "bench",
                ["key"] = keys[i],
            });
            sent.Add(new Sent(sequence, -1, at));
        });
        await bench.WaitAppliedAsync(sent.Select(s => s.Sequence));
        var seconds = clock.Elapsed.TotalSeconds;
        var cpu = Cpu.PerEvent(before, Cpu.Take(bench), events);
        return new Phase(bench.Stages([.. sent], KeyStages), cpu, events / seconds);
    }

    private static async Task<Phase> PushesAsync(TracedSite bench, int repositories, int pushesPerSecond, TimeSpan duration)
    {
        var sent = new ConcurrentBag<Sent>();
        var posting = new List<Task>();
        var interval = TimeSpan.FromSeconds(1.0 / pushesPerSecond);
        var total = (int)(duration.TotalSeconds * pushesPerSecond);
        var before = Cpu.Take(bench);
        var clock = Stopwatch.StartNew();
        for (var n = 0; n < total; n++)
        {
            var due = interval * n;
            await Pacing.UntilAsync(clock, due);

            // Each phase starts where the last left off, so at 10/s over 1,000 a repository is pushed once per phase.
            var i = bench.NextRepository(repositories);
            var repo = bench.Repositories[i];
            var projectId = bench.FirstProjectId + i;
            var (from, to) = repo.Push();
            posting.Add(Task.Run(async () =>
            {
                var at = DateTime.UtcNow;
                var sequence = await bench.AcceptedAsync(Hooks.Push("push", projectId, repo.PathWithNamespace, "refs/heads/main", from, to));
                bench.ProjectOf[sequence] = projectId;
                sent.Add(new Sent(sequence, projectId, at));
            }));
        }

        await Task.WhenAll(posting);
        await bench.WaitAppliedAsync(sent.Select(s => s.Sequence));
        var seconds = clock.Elapsed.TotalSeconds;
        var cpu = Cpu.PerEvent(before, Cpu.Take(bench), total);
        return new Phase(bench.Stages([.. sent], PushStages), cpu, total / seconds);
    }

    private static async Task<Dictionary<string, double>> IdleCpuMsPerSecondAsync(TracedSite bench, TimeSpan span)
    {
        var before = Cpu.Take(bench);
        await Task.Delay(span);
        var after = Cpu.Take(bench);
        return Cpu.PerEvent(before, after, span.TotalSeconds);
    }

    /// <summary>A site whose geo-primary and each geo-secondary write a stage trace, with repositories already cloned everywhere.</summary>
    private sealed class TracedSite : IAsyncDisposable
    {
        private readonly Dictionary<string, TraceFile> _traces = [];
        private int _next;

        private TracedSite(GeoSite site, string[] secondaries, long firstProjectId)
        {
            Site = site;
            Secondaries = secondaries;
            FirstProjectId = firstProjectId;
        }

        public GeoSite Site { get; }
        public string[] Secondaries { get; }
        public long FirstProjectId { get; }
        public List<BareRepository> Repositories { get; } = [];
        public ConcurrentDictionary<long, long> ProjectOf { get; } = new();

        public int NextRepository(int count) => _next++ % count;

        /// <summary>Hooks geo-primary answered 503 (its PostgreSQL too slow on a saturated machine): each was sent again.</summary>
        public int Refused => _refused;

        private int _refused;

        /// <summary>
        /// Posts a hook until it is accepted: on a saturated machine geo-primary may answer 503 (the event store did not
        /// answer in time), which GitLab would log; the bench sends it again, and the event's clock keeps its first send.
        /// </summary>
        public async Task<long> AcceptedAsync(JsonNode payload)
        {
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    return await Site.Hooks.AcceptedAsync(payload.DeepClone());
                }
                catch (InvalidOperationException e) when (attempt < 10 && e.Message.Contains("answered 503", StringComparison.Ordinal))
                {
                    Interlocked.Increment(ref _refused);
                    await Task.Delay(200 * attempt);
                }
            }
        }

        public static async Task<TracedSite> StartAsync(string[] secondaries, int repositories, long firstProjectId)
        {
            var folder = Directory.CreateTempSubdirectory("geo-bench-stages-").FullName;
            var primaryTrace = Path.Combine(folder, "geo-primary.log");
            var site = await GeoSite.StartAsync(secondaries, startSecondaries: false,
                primarySettings: new Dictionary<string, string> { ["Observability:StageTrace"] = primaryTrace });
            var bench = new TracedSite(site, secondaries, firstProjectId);
            bench._traces["geo-primary"] = new TraceFile(primaryTrace);
            try
            {
                foreach (var name in secondaries)
                {
                    var trace = Path.Combine(folder, $"geo-secondary-{name}.log");
                    bench._traces[name] = new TraceFile(trace);
                    site.StartSecondary(name, new Dictionary<string, string> { ["Observability:StageTrace"] = trace });
                }

                foreach (var name in secondaries)
                {
                    await site.WaitForSecondaryAsync(name);
                }

                // The first push of each repository: the clones, not measured.
                for (var i = 0; i < repositories; i++)
                {
                    bench.Repositories.Add(new BareRepository(Path.Combine(site.StorageRoot, "stages", $"r{firstProjectId + i}.git"), $"stages/r{firstProjectId + i}"));
                }

                var firsts = new ConcurrentBag<long>();
                await Parallel.ForEachAsync(Enumerable.Range(0, repositories), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, _) =>
                {
                    var repo = bench.Repositories[i];
                    var (from, to) = repo.Push();
                    var sequence = await bench.AcceptedAsync(Hooks.Push("push", firstProjectId + i, repo.PathWithNamespace, "refs/heads/main", from, to));
                    bench.ProjectOf[sequence] = firstProjectId + i;
                    firsts.Add(sequence);
                });
                await bench.WaitAppliedAsync(firsts, TimeSpan.FromMinutes(20));
                return bench;
            }
            catch
            {
                await bench.DisposeAsync();
                throw;
            }
        }

        /// <summary>Waits until every secondary's trace says each of <paramref name="sequences"/> is applied.</summary>
        public async Task WaitAppliedAsync(IEnumerable<long> sequences, TimeSpan? timeout = null)
        {
            var wanted = sequences.ToList();
            bool Done(string trace, string stage)
            {
                var events = _traces[trace].Read().Events;
                return wanted.All(s => events.TryGetValue(s, out var stages) && stages.ContainsKey(stage));
            }

            await GeoSite.WaitUntilAsync(() => Task.FromResult(Secondaries.All(name => Done(name, "applied")) && Done("geo-primary", "published")),
                timeout ?? TimeSpan.FromMinutes(5), () => "not every event was applied on every secondary (or its trace line is missing)");
        }

        /// <summary>Milliseconds of each stage per event (per event and secondary for the secondary's stages).</summary>
        public Dictionary<string, List<double>> Stages(IReadOnlyList<Sent> sent, (string Name, string From, string To)[] stages)
        {
            var result = stages.ToDictionary(s => s.Name, _ => new List<double>());
            var primary = _traces["geo-primary"].Read();
            foreach (var name in Secondaries)
            {
                var trace = _traces[name].Read();
                // A repository's syncs in the order they started; each covers the events up to its sequence.
                var syncs = trace.Syncs
                    .Where(s => ProjectOf.ContainsKey(s.Key) && s.Value.Fetched is not null)
                    .GroupBy(s => ProjectOf[s.Key])
                    .ToDictionary(g => g.Key, g => g.OrderBy(s => s.Value.Started).Select(s => (Covers: s.Key, s.Value.Started, Fetched: s.Value.Fetched!.Value)).ToList());
                foreach (var evt in sent)
                {
                    var times = new Dictionary<string, DateTime>(primary.Events[evt.Sequence]) { ["sent"] = evt.At };
                    foreach (var (stage, at) in trace.Events[evt.Sequence])
                    {
                        times[stage] = at;
                    }

                    if (evt.ProjectId >= 0 && syncs.TryGetValue(evt.ProjectId, out var list) && list.FirstOrDefault(s => s.Covers >= evt.Sequence) is { Covers: > 0 } sync)
                    {
                        times["started"] = sync.Started;
                        times["fetched"] = sync.Fetched;
                    }

                    foreach (var (stage, from, to) in stages)
                    {
                        // geo-primary's stages once per event, not once per secondary.
                        if ((PrimaryStages.Contains(to) && name != Secondaries[0]) || !times.TryGetValue(from, out var a) || !times.TryGetValue(to, out var b))
                        {
                            continue;
                        }

                        result[stage].Add((b - a).TotalMilliseconds);
                    }
                }
            }

            return result;
        }

        public async ValueTask DisposeAsync()
        {
            await Site.DisposeAsync();
            foreach (var repo in Repositories)
            {
                repo.Dispose();
            }
        }
    }

    /// <summary>A stage trace file read as it grows: each call parses only the lines added since the last.</summary>
    private sealed class TraceFile(string path)
    {
        private long _offset;
        private string _partial = "";

        public Dictionary<long, Dictionary<string, DateTime>> Events { get; } = [];

        /// <summary>Repository syncs by the highest sequence each covers: when it started (after its waits) and when its fetch was done.</summary>
        public Dictionary<long, (DateTime Started, DateTime? Fetched)> Syncs { get; } = [];

        public TraceFile Read()
        {
            if (!File.Exists(path))
            {
                return this;
            }

            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            stream.Seek(_offset, SeekOrigin.Begin);
            using var reader = new StreamReader(stream);
            var text = _partial + reader.ReadToEnd();
            _offset = stream.Position;
            var end = text.LastIndexOf('\n');
            _partial = text[(end + 1)..];
            foreach (var line in text[..Math.Max(end, 0)].Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                var parts = line.Split(' ');
                var at = DateTime.Parse(parts[0], CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);
                var sequence = long.Parse(parts[2], CultureInfo.InvariantCulture);
                switch (parts[1])
                {
                    case "started":
                        Syncs[sequence] = (at, null);
                        break;
                    case "fetched" when Syncs.TryGetValue(sequence, out var sync):
                        Syncs[sequence] = (sync.Started, at);
                        break;
                    default:
                        if (!Events.TryGetValue(sequence, out var stages))
                        {
                            Events[sequence] = stages = [];
                        }

                        stages.TryAdd(parts[1], at); // the first delivery's time; a redelivery keeps it
                        break;
                }
            }

            return this;
        }
    }

    /// <summary>Each process's own CPU time (utime + stime) in milliseconds.</summary>
    private static class Cpu
    {
        private const double MsPerTick = 10; // USER_HZ = 100 on Linux

        public sealed record Snapshot(Dictionary<string, double> Ms, Dictionary<int, double> PostgresBackends);

        public static Snapshot Take(TracedSite bench)
        {
            var ms = new Dictionary<string, double> { ["geo-primary"] = bench.Site.Primary.CpuTime().TotalMilliseconds };
            foreach (var name in bench.Secondaries)
            {
                ms[$"geo-secondary {name}"] = bench.Site.Secondary(name).CpuTime().TotalMilliseconds;
            }

            // PostgreSQL forks a backend per connection; this site's are the ones on its databases (geo_<id>_…).
            var prefix = " " + bench.Site.PrimaryDatabase[..^"primary".Length];
            var backends = new Dictionary<int, double>();
            double rabbit = 0;
            foreach (var dir in Directory.EnumerateDirectories("/proc"))
            {
                if (!int.TryParse(Path.GetFileName(dir), out var pid))
                {
                    continue;
                }

                try
                {
                    var cmdline = File.ReadAllText(Path.Combine(dir, "cmdline"));
                    if (cmdline.StartsWith("postgres: ", StringComparison.Ordinal) && cmdline.Contains(prefix, StringComparison.Ordinal))
                    {
                        backends[pid] = Ticks(pid) * MsPerTick;
                    }
                    else if (File.ReadAllText(Path.Combine(dir, "comm")).Trim() == "beam.smp")
                    {
                        rabbit += Ticks(pid) * MsPerTick;
                    }
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
                {
                    // The process ended meanwhile.
                }
            }

            ms["PostgreSQL (this site's backends)"] = 0;
            ms["RabbitMQ (beam.smp, whole broker)"] = rabbit;
            using (var self = Process.GetCurrentProcess())
            {
                ms["harness (geo-bench)"] = self.TotalProcessorTime.TotalMilliseconds;
            }

            var cpu = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1)
                .Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
            ms["machine, all processes (busy, not idle or iowait)"] = (cpu.Take(8).Sum() - cpu[3] - cpu[4]) * MsPerTick;
            return new Snapshot(ms, backends);
        }

        /// <summary>CPU milliseconds per event between two snapshots; a backend that ended meanwhile is not counted.</summary>
        public static Dictionary<string, double> PerEvent(Snapshot before, Snapshot after, double events)
        {
            var result = after.Ms.ToDictionary(p => p.Key, p => (p.Value - before.Ms.GetValueOrDefault(p.Key)) / events);
            result["PostgreSQL (this site's backends)"] = after.PostgresBackends.Sum(b => b.Value - before.PostgresBackends.GetValueOrDefault(b.Key)) / events;
            return result;
        }

        private static long Ticks(int pid)
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            // Fields 14 and 15 of the line (utime, stime), counted after the command's closing parenthesis.
            return long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        }
    }
}
