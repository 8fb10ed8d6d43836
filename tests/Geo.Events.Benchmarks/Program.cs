using Geo.Events.Benchmarks;
using Geo.Events.Benchmarks.Scenarios;
using Geo.Events.Testing;

// geo-bench [--quick] [--only 2,3] [--out DIR] [--sizes 100000] [--builds old=DIR,new=DIR] [--programs DIR]: every scenario, each
// figure the median of at least three runs (QUICK makes the runs smaller, not fewer), with its floor measured in the
// same run. Asserts nothing about speed; writes bench.json and bench.md. --sizes: scenario 7's storage sizes;
// --builds: scenario 7 also measures the detector's idle cost with each of these program folders (make publish's
// layout: DIR/geo-primary/geo-primary.dll, …), alternating, to compare two builds in one run.
var quick = args.Contains("--quick");
var outIndex = Array.IndexOf(args, "--out");
var output = outIndex >= 0 && outIndex + 1 < args.Length ? args[outIndex + 1] : Path.Combine(TestServers.RepoRoot, "artifacts", "bench");
var onlyIndex = Array.IndexOf(args, "--only");
var only = onlyIndex >= 0 && onlyIndex + 1 < args.Length ? args[onlyIndex + 1].Split(',').Select(int.Parse).ToHashSet() : null;
bool Selected(int scenario) => only is null || only.Contains(scenario);
var sizesIndex = Array.IndexOf(args, "--sizes");
int[]? sizesArg = sizesIndex >= 0 && sizesIndex + 1 < args.Length ? [.. args[sizesIndex + 1].Split(',').Select(int.Parse)] : null;
var buildsIndex = Array.IndexOf(args, "--builds");
var builds = buildsIndex >= 0 && buildsIndex + 1 < args.Length
    ? args[buildsIndex + 1].Split(',').Select(b => b.Split('=', 2)).Select(b => (Name: b[0], Folder: Path.GetFullPath(b[1]))).ToList()
    : [];
// --programs DIR: every program starts from DIR (make publish's layout) instead of the build's bin folders.
var programsIndex = Array.IndexOf(args, "--programs");
string? programs = programsIndex >= 0 && programsIndex + 1 < args.Length ? Path.GetFullPath(args[programsIndex + 1]) : null;
GeoProcess.PublishedPrograms.Value = programs;
const int runs = 3;
var results = new List<ScenarioResult>();
void Say(string text) => Console.WriteLine($"[bench {DateTime.Now:HH:mm:ss}] {text}");

// 1. Floors.
Say("floor: raw RabbitMQ.Client publish-with-confirms + consume-with-ack on a quorum queue");
var floorMessages = quick ? 2_000 : 20_000;
var brokerFloor = new List<double>();
for (var i = 0; i < runs; i++)
{
    brokerFloor.Add(await BrokerFloor.MessagesPerSecondAsync(floorMessages));
}

var scratch = Directory.CreateTempSubdirectory("geo-bench-").FullName;
Say("floor: one-commit fetch into a mirror, LibGit2Sharp and git");
var (libgit2Fetch, gitFetch) = await GitFloor.OneCommitFetchAsync(scratch, quick ? 3 : 15);
results.Add(new ScenarioResult("1. Floors",
    $"Raw RabbitMQ.Client: {floorMessages} messages of {BrokerFloor.BodySize} bytes published with confirms (200 in flight) and consumed with one ack each, on a quorum queue. A one-commit delta fetched (+refs/*:refs/*, prune) from a local bare repository.",
    [
        new Figure("broker publish+consume", "msg/s", brokerFloor),
        new Figure("LibGit2Sharp fetch, one commit", "ms", libgit2Fetch),
        new Figure("git fetch, one commit", "ms", gitFetch),
    ], []));

if (Selected(2))
{
    // 2. Pipeline throughput with cheap events.
    Say("pipeline: key_create hooks → geo-primary → 3 secondaries");
    var pipelineEvents = quick ? 300 : 3_000;
    var pipeline = new List<double>();
    await using (var site = await GeoSite.StartAsync(KeysPipeline.Sites))
    {
        // A warm-up run first, not counted: fresh processes run cold (JIT) code.
        await KeysPipeline.EventsPerSecondAsync(site, pipelineEvents / 2, 500_000L);
        for (var i = 0; i < runs; i++)
        {
            pipeline.Add(await KeysPipeline.EventsPerSecondAsync(site, pipelineEvents, 1_000_000L * (i + 1)));
        }
    }

    // The primary's half alone (secondaries not running): where the ceiling is when the figure above is low.
    var published = new List<double>();
    var steadyWarmUp = pipelineEvents * 8;
    var steadyRun = pipelineEvents * 4;
    List<double> acceptedSteady, publishedSteady, accepted64, published64;
    await using (var site = await GeoSite.StartAsync(KeysPipeline.Sites, startSecondaries: false))
    {
        await KeysPipeline.PublishedPerSecondAsync(site, pipelineEvents / 2, 500_000L);
        for (var i = 0; i < runs; i++)
        {
            published.Add((await KeysPipeline.PublishedPerSecondAsync(site, pipelineEvents, 1_000_000L * (i + 1))).Published);
        }

        // The same process once the JIT's later tiers have compiled its hot code (a process this young is still
        // compiling: perf gave the JIT a quarter of geo-primary's samples 25 s after its start), as in a service that has run a while.
        Say($"pipeline: the primary's half alone, after {steadyWarmUp} more events");
        await KeysPipeline.PublishedPerSecondAsync(site, steadyWarmUp, 4_000_000L);
        (acceptedSteady, publishedSteady) = await SteadyRunsAsync(site, 5_000_000L, inFlight: 16);
        // With more hooks in flight: at 16 a hook's round trip sets the pace, not what the processes can do.
        (accepted64, published64) = await SteadyRunsAsync(site, 8_000_000L, inFlight: 64);
    }

    // The warm runs: hooks answered and events published per second, each run's keys from firstKeyId + a million times its index.
    async Task<(List<double> Accepted, List<double> Published)> SteadyRunsAsync(GeoSite site, long firstKeyId, int inFlight)
    {
        var (accepted, publishedRates) = (new List<double>(), new List<double>());
        for (var i = 0; i < runs; i++)
        {
            var rates = await KeysPipeline.PublishedPerSecondAsync(site, steadyRun, firstKeyId + (1_000_000L * i), inFlight);
            accepted.Add(rates.Accepted);
            publishedRates.Add(rates.Published);
        }

        return (accepted, publishedRates);
    }

    var pipelineMedian = Stats.Median(pipeline);
    var floorMedian = Stats.Median(brokerFloor);
    results.Add(new ScenarioResult("2. Pipeline throughput (keys)",
        $"{pipelineEvents} key_create hooks posted over HTTP (16 at a time) until all three secondaries have applied every one; compared with the broker floor above. Then the primary's half alone: the same hooks recorded and published into the three queues with no secondary running, in a process started for it (after a warm-up of {pipelineEvents / 2}) and again after {steadyWarmUp} more, in runs of {steadyRun}, 16 and then 64 hooks in flight. Each of these clocks stops at the last event's published_at, PostgreSQL's time of the dispatcher's mark after the broker's confirm.",
        [
            new Figure("hook → applied on 3 secondaries", "events/s", pipeline, "≥ 40% of the broker floor", pipelineMedian >= 0.4 * floorMedian, floorMedian, "broker floor msg/s"),
            new Figure("hook → recorded and published, no secondary running", "events/s", published, Floor: floorMedian, FloorName: "broker floor msg/s"),
            new Figure($"the same, after {steadyWarmUp} more events (the JIT's work done)", "events/s", publishedSteady, Floor: floorMedian, FloorName: "broker floor msg/s"),
            new Figure("of which hooks answered 202 (recorded), the same runs", "events/s", acceptedSteady),
            new Figure("the same warm process, 64 hooks in flight instead of 16", "events/s", published64, Floor: floorMedian, FloorName: "broker floor msg/s"),
            new Figure("of which hooks answered 202 (recorded), 64 in flight", "events/s", accepted64),
        ],
        ["Each event is published once and delivered three times (one queue per secondary); the floor is one publish and one delivery.",
         "Everything shares the machine's cores: geo-primary, three geo-secondaries, PostgreSQL, RabbitMQ and this harness. The second figure is the first's ceiling here."]));
}

if (Selected(3) || Selected(4))
{
    // 3 and 4. Replication lag and coalescing.
    var repositories = quick ? 10 : 100;
    var rate = quick ? 20 : 100;
    var duration = TimeSpan.FromSeconds(quick ? 5 : 30);
    Say($"lag: {rate} pushes/s over {repositories} repositories for {duration.TotalSeconds} s, 3 secondaries");
    var p50 = new List<double>();
    var p95 = new List<double>();
    var p99 = new List<double>();
    var fetches = new List<double>();
    await using (var site = await GeoSite.StartAsync(KeysPipeline.Sites))
    {
        for (var i = 0; i < runs; i++)
        {
            var lags = await ReplicationLag.LagsMsAsync(site, KeysPipeline.Sites, repositories, rate, duration, 100_000L * (i + 1));
            p50.Add(Stats.Percentile(lags, 50));
            p95.Add(Stats.Percentile(lags, 95));
            p99.Add(Stats.Percentile(lags, 99));
            Say($"lag run {i + 1}: p50 {p50[^1]:F0} ms, p95 {p95[^1]:F0} ms, p99 {p99[^1]:F0} ms");
        }

        Say("coalescing: 100 pushes to one repository within 1 s");
        for (var i = 0; i < runs; i++)
        {
            fetches.Add((await ReplicationLag.CoalescedFetchesAsync(site, KeysPipeline.Sites, 100, 900_000L + i)).Max());
        }
    }

    var fetchFloor = Stats.Median(libgit2Fetch);
    results.Add(new ScenarioResult("3. Replication lag",
        $"{rate} pushes/s spread over {repositories} repositories for {duration.TotalSeconds} s, each announced by its push hook; lag from the moment the hook is sent to the commit being on each of 3 mirrors (polled every 2 ms). Median of {runs} runs.",
        [
            new Figure("p50", "ms", p50, Floor: fetchFloor, FloorName: "LibGit2Sharp fetch ms"),
            new Figure("p95", "ms", p95, Floor: fetchFloor, FloorName: "LibGit2Sharp fetch ms"),
            new Figure("p99", "ms", p99, "p99 < 500 ms", Stats.Median(p99) < 500, fetchFloor, "LibGit2Sharp fetch ms"),
        ], []));
    results.Add(new ScenarioResult("4. Coalescing",
        "100 pushes to one repository within about one second, each with its hook; fetches made by the busiest of 3 secondaries once all are covered.",
        [new Figure("fetches per secondary (max of 3)", "fetches", fetches, "≤ 3", Stats.Median(fetches) <= 3)], []));
}

if (Selected(5))
{
    // 5. Keys at scale.
    var preload = quick ? 10_000 : 100_000;
    var keyEvents = quick ? 500 : 5_000;
    var backlogEvents = keyEvents * 2;
    Say($"keys at scale: {preload} keys present, {keyEvents} key events at up to 1000/s, then backlogs of {backlogEvents}");
    await using (var site = await GeoSite.StartAsync(["tokyo"], startSecondaries: false))
    {
        var authorizedKeys = Path.Combine(site.Root, "authorized_keys");
        void StartSecondary() => site.StartSecondary("tokyo", new Dictionary<string, string> { ["Keys:AuthorizedKeysFile"] = authorizedKeys });
        StartSecondary();
        await GeoSite.WaitUntilAsync(async () =>
        {
            try
            {
                return await site.QuerySecondaryAsync<long>("tokyo", "SELECT count(*) FROM ssh_keys") >= 0;
            }
            catch (Npgsql.PostgresException)
            {
                return false; // not migrated yet
            }
            catch (Npgsql.NpgsqlException)
            {
                return false;
            }
        }, TimeSpan.FromMinutes(1), () => "the secondary's registry never appeared");
        await KeysAtScale.PreloadAsync(site, "tokyo", preload);
        // A warm-up run first, not counted: fresh processes run cold (JIT) code, which took a third of the first run's rate.
        await KeysAtScale.AppliedPerSecondAsync(site, "tokyo", keyEvents / 5, 1000, authorizedKeys, 8_000_000L);
        var applied = new List<double>();
        var inRegistry = new List<double>();
        var secondaryCpu = new List<double>();
        for (var i = 0; i < runs; i++)
        {
            var cpuBefore = site.Secondary("tokyo").CpuTime();
            var (file, registry) = await KeysAtScale.AppliedPerSecondAsync(site, "tokyo", keyEvents, 1000, authorizedKeys, 9_000_000L + (i * 1_000_000L));
            applied.Add(file);
            inRegistry.Add(registry);
            secondaryCpu.Add((site.Secondary("tokyo").CpuTime() - cpuBefore).TotalMilliseconds / keyEvents);
            Say($"keys at scale run {i + 1}: {file:F0} events/s in authorized_keys, {registry:F0} events/s in the registry, geo-secondary {secondaryCpu[^1]:F2} ms CPU per event");
        }

        // The apply side alone, which the paced runs cannot show once it keeps up with the pace: a backlog, taken by the
        // running secondary, paused while it was recorded and published; then by a secondary started again.
        var pausedBacklog = new List<double>();
        for (var i = 0; i < runs; i++)
        {
            pausedBacklog.Add(await KeysAtScale.PausedBacklogAppliedPerSecondAsync(site, "tokyo", backlogEvents, authorizedKeys, 15_000_000L + (i * 1_000_000L)));
            Say($"keys at scale paused backlog {i + 1}: {pausedBacklog[^1]:F0} events/s from the resume to the last in authorized_keys");
        }

        var backlog = new List<double>();
        for (var i = 0; i < runs; i++)
        {
            backlog.Add(await KeysAtScale.BacklogAppliedPerSecondAsync(site, "tokyo", backlogEvents, authorizedKeys, 20_000_000L + (i * 1_000_000L), StartSecondary));
            Say($"keys at scale backlog {i + 1}: {backlog[^1]:F0} events/s from the first in the registry to the last in authorized_keys");
        }

        List<double> lookups = [double.NaN], command = [double.NaN];
        try
        {
            lookups = await KeysAtScale.LookupMsAsync(site, "tokyo", quick ? 200 : 2_000);
            command = await KeysAtScale.CommandMsAsync(site, "tokyo", quick ? 3 : 20);
        }
        catch (Npgsql.NpgsqlException e)
        {
            // A busy shared server (too many clients) must not lose the figures above.
            Say($"keys at scale: the lookup figures are missing: {e.Message}");
        }
        results.Add(new ScenarioResult("5. Keys at scale",
            $"{preload} keys already in the registry and in authorized_keys; {keyEvents} key_create hooks posted at up to 1000/s, timed from the first post until authorized_keys holds every one (after a warm-up of {keyEvents / 5}, median of {runs} runs, each on top of the last); then {runs} backlogs of {backlogEvents} key_create events recorded and queued while geo-secondary was paused (SIGSTOP), timed from its resume until authorized_keys holds every one, and {runs} while it was stopped, timed from the first of them in its registry (after its restart); then the AuthorizedKeysCommand lookup.",
            [
                new Figure("key events applied (in authorized_keys)", "events/s", applied, "keep up with 1000/s", Stats.Median(applied) >= 1000),
                new Figure("key events in the registry only (the old, early clock)", "events/s", inRegistry),
                new Figure("geo-secondary CPU per key event (registry writes and authorized_keys rewrites)", "ms", secondaryCpu),
                new Figure("key events applied from a backlog (the apply side alone, the running process resumed)", "events/s", pausedBacklog),
                new Figure("key events applied from a backlog (the apply side alone, a restarted process)", "events/s", backlog),
                new Figure("AuthorizedKeysCommand query p50", "ms", [Stats.Percentile(lookups, 50)]),
                new Figure("AuthorizedKeysCommand query p99", "ms", [Stats.Percentile(lookups, 99)], "< 5 ms", Stats.Percentile(lookups, 99) < 5),
                new Figure("geo-secondary authorized-keys, whole process, p50", "ms", [Stats.Percentile(command, 50)]),
            ],
            ["The whole command is dominated by starting a .NET process per login; the query itself is the lookup figure."]));
    }
}

if (Selected(6))
{
    // 6. Backfill.
    var repositories = quick ? 50 : 1_000;
    Say($"backfill: a new secondary registers and backfills {repositories} repositories; baselines: git clone --mirror, 4 at a time and one after another");
    var backfill = new List<double>();
    var cloneLoop = new List<double>();
    var cloneFour = new List<double>();
    await using (var site = await GeoSite.StartAsync([], startSecondaries: false, register: true))
    {
        var paths = await Backfill.CreateRepositoriesAsync(site, repositories);
        for (var i = 0; i < runs; i++)
        {
            cloneLoop.Add(await Backfill.CloneSecondsAsync(site, paths, concurrency: 1));
            cloneFour.Add(await Backfill.CloneSecondsAsync(site, paths, concurrency: 4));
            backfill.Add(await Backfill.SecondsAsync(site, $"fresh{i}", repositories));
        }
    }

    results.Add(new ScenarioResult("6. Backfill",
        $"{repositories} one-commit repositories known to geo-primary; a new secondary starts, registers, and backfills (inventory pages of 200, refs checksum compared before and after each fetch, 4 fetches at a time). Time from its process start to the finished run; baselines in the same run: git clone --mirror of each, 4 at a time (as many as the secondary fetches at once) and one after another. Median of {runs} runs.",
        [
            new Figure("start → complete verified secondary", "s", backfill, Floor: Stats.Median(cloneFour), FloorName: "git clone --mirror, 4 at a time, s"),
            new Figure("git clone --mirror, 4 at a time", "s", cloneFour),
            new Figure("git clone --mirror, one after another", "s", cloneLoop),
        ],
        ["The ratio is the backfill's time over 4 concurrent clones': below 1 is faster than git doing the same fetches with the same concurrency. The secondary's time includes its own process start, registration and checksums."]));
}

if (Selected(7))
{
    // 7. The repository change detector.
    var sizes = sizesArg ?? (quick ? new[] { 2_000 } : new[] { 10_000, 100_000 });
    var interval = TimeSpan.FromSeconds(10); // Primary:RepositoryScanInterval's default
    var samples = quick ? 4 : 20;
    var passes = quick ? 1 : 3;
    var figures = new List<Figure>();
    foreach (var size in sizes)
    {
        var storage = Path.Combine(scratch, $"storage-{size}");
        Say($"change detector: generating {size} repositories");
        var generate = await ChangeDetector.GenerateAsync(storage, size, Path.Combine(scratch, $"gen-{size}"));
        var repos = new List<PrimaryRepository>();
        for (var i = 1; i <= samples; i++)
        {
            // Real repositories beside the generated ones; the secondaries fetch them through the links CreateHashedAsync makes (which the detector skips).
            var repo = await PrimaryRepository.CreateHashedAsync(storage, size + i, $"bench/s{size + i}", Path.Combine(scratch, $"work-{size}"));
            await repo.CommitAndPushAsync("first");
            repos.Add(repo);
        }

        Say($"change detector: {size + samples} repositories, first pass, then {passes} passes with nothing changed");
        var settings = new Dictionary<string, string>
        {
            ["Primary:RepositoryStorages:bench"] = storage,
            ["Primary:RepositoryScanInterval"] = interval.ToString(),
            ["Primary:HashedIdScanLimit"] = (size + samples + 100).ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        var secondarySettings = new Dictionary<string, string> { ["Secondary:PrimaryGitUrl"] = storage };

        // The floor: the same geo-primary with the detector off over the same storage, running beside each measured one:
        // its CPU is read over the very same window (/metrics asked as often), so both see the same load.
        var off = await GeoSite.StartAsync(KeysPipeline.Sites, secondarySettings: secondarySettings, startSecondaries: false,
            primarySettings: new Dictionary<string, string>(settings) { ["Primary:RepositoryScanInterval"] = "00:00:00" });
        double floorCpu, cpuMs, own, passMs, firstPass, core;
        GeoSite? started = null;
        try
        {
            // Other builds' detectors over the same storage, alternating (each start pays its own first pass).
            foreach (var round in Enumerable.Range(1, builds.Count > 0 ? 2 : 0))
            {
                foreach (var (name, folder) in builds)
                {
                    GeoProcess.PublishedPrograms.Value = folder;
                    try
                    {
                        await using var other = await GeoSite.StartAsync(KeysPipeline.Sites, secondarySettings: secondarySettings, startSecondaries: false, primarySettings: settings);
                        var (_, otherPassMs, otherCpuMs, _, otherFloorMs, otherFloorInterval, _) = await ChangeDetector.IdleCostAsync(other, size + samples, passes, interval, off);
                        Say($"change detector, build {name}, round {round}: pass {otherPassMs:F0} ms, CPU {otherCpuMs:F0} ms per pass, floor {otherFloorInterval:F0} ms per interval (same window)");
                        figures.Add(new Figure($"{size:N0}: build {name}, round {round}: pass with nothing changed", "ms", [otherPassMs]));
                        figures.Add(new Figure($"{size:N0}: build {name}, round {round}: detector CPU per pass (over the floor)", "ms", [otherCpuMs - otherFloorMs]));
                    }
                    finally
                    {
                        GeoProcess.PublishedPrograms.Value = programs;
                    }
                }
            }

            started = await GeoSite.StartAsync(KeysPipeline.Sites, secondarySettings: secondarySettings, primarySettings: settings);
            (firstPass, passMs, cpuMs, core, _, floorCpu, own) = await ChangeDetector.IdleCostAsync(started, size + samples, passes, interval, off);
        }
        catch
        {
            if (started is not null)
            {
                await started.DisposeAsync();
            }

            throw;
        }
        finally
        {
            await off.DisposeAsync(); // before the hookless pushes: their lag is measured without it
        }

        await using var site = started;
        Say($"change detector: {samples} hookless pushes at random moments (one round unmeasured: the secondaries clone), 3 secondaries");
        await ChangeDetector.HooklessLagsMsAsync(site, KeysPipeline.Sites, repos, interval, 1);
        var lags = await ChangeDetector.HooklessLagsMsAsync(site, KeysPipeline.Sites, repos, interval, 2);
        figures.Add(new Figure($"{size:N0} repositories: generated", "s", [generate]));
        figures.Add(new Figure($"{size:N0}: first pass (reads every repository)", "s", [firstPass]));
        figures.Add(new Figure($"{size:N0}: pass with nothing changed", "ms", [passMs]));
        figures.Add(new Figure($"{size:N0}: geo-primary CPU per pass", "ms", [cpuMs], Floor: floorCpu, FloorName: "geo-primary CPU per interval, detector off"));
        figures.Add(new Figure($"{size:N0}: geo-primary CPU at the default interval", "% of a core", [core]));
        figures.Add(new Figure($"{size:N0}: the detector's own CPU at the default interval (over the floor)", "% of a core", [own], "≤ 10% at 100,000", size < 100_000 ? null : own <= 10));
        figures.Add(new Figure($"{size:N0}: hookless push → every secondary, p50", "ms", [Stats.Percentile(lags, 50)]));
        figures.Add(new Figure($"{size:N0}: hookless push → every secondary, p99", "ms", [Stats.Percentile(lags, 99)], "≤ two intervals (20 s)", Stats.Percentile(lags, 99) <= 2 * interval.TotalMilliseconds));
    }

    Say("change detector: fetches for hooked pushes, detector on and off");
    var fetchCounts = new Dictionary<bool, double>();
    foreach (var on in new[] { true, false })
    {
        var settings = new Dictionary<string, string> { ["Primary:RepositoryScanInterval"] = on ? interval.ToString() : "00:00:00" };
        await using var site = await GeoSite.StartAsync(KeysPipeline.Sites, primarySettings: settings);
        var hooked = new List<PrimaryRepository>();
        var pushes = 0;
        for (var i = 0; i < (quick ? 3 : 10); i++)
        {
            var (repo, sha) = await site.CreatePushedRepositoryAsync($"hooked/r{i}", 700_000 + i);
            pushes++;
            for (var p = 0; p < 5; p++)
            {
                (sha, _) = await site.PushWithHookAsync(repo, 700_000 + i, $"push {p}", before: sha);
                pushes++;
                await site.WaitForMirrorsAsync(repo); // one push at a time: no coalescing to blur the count
            }

            hooked.Add(repo);
        }

        await Task.Delay(interval * 2.5); // two more passes, which must find every push announced
        fetchCounts[on] = await ChangeDetector.FetchesAsync(site, KeysPipeline.Sites);
        Say($"change detector {(on ? "on" : "off")}: {pushes} hooked pushes, {fetchCounts[on]} clones and fetches on 3 secondaries");
    }

    figures.Add(new Figure("hooked pushes: clones + fetches on 3 secondaries, detector on", "fetches", [fetchCounts[true]], "= detector off", fetchCounts[true] <= fetchCounts[false], fetchCounts[false], "detector off"));
    results.Add(new ScenarioResult("7. Repository change detector",
        $"A storage of generated hashed repositories (packed-refs only, objects through alternates) plus {samples} real ones; geo-primary's detector at its default interval ({interval.TotalSeconds} s) with 3 secondaries. Pass time and geo-primary's CPU (the whole process, /proc) over {passes} passes with nothing changed; then {samples} hookless pushes at random moments, time from the push to the commit on all 3 secondaries. Last, hooked pushes one at a time (10 repositories × 6) with the detector on and off: clones and fetches counted on the secondaries.",
        figures,
        ["CPU per pass is geo-primary's whole process over whole intervals, so it includes its idle work (dispatcher polls, metrics); the floor is the same program with the detector off (Primary:RepositoryScanInterval 00:00:00) over the same storage, running beside the measured one, its CPU read over the very same window with /metrics asked as often, and the detector's own CPU is the difference."]));
}

if (Selected(8))
{
    // 8. Cloning at a site.
    var megabytes = quick ? 10 : 50;
    Say($"serving: a {megabytes} MB repository cloned at the site (access asked across a delayed link, or cached) vs from the primary across that link");
    var wan = new List<double>();
    var siteAsked = new List<double>();
    var siteCached = new List<double>();
    var local = new List<double>();
    await using (var site = await GeoSite.StartAsync(["tokyo"], startSecondaries: false))
    {
        await using var gitlab = await GitLabStandIn.StartAsync(site.StorageRoot);
        var (proxy, wanUrl) = await Serving.StartWanAsync(gitlab.BaseUrl);
        await using (proxy)
        {
            var port = GeoProcess.FreePort();
            site.StartSecondary("tokyo", new Dictionary<string, string>
            {
                ["Secondary:ServeUrls"] = $"http://127.0.0.1:{port}",
                ["Secondary:PrimaryCloneUrl"] = wanUrl,
                ["Logging:LogLevel:Geo.Events.Secondary.Serving"] = "Warning",
            });
            await site.WaitForSecondaryAsync("tokyo");
            var (repo, _) = await Serving.CreateLargeRepositoryAsync(site, 801, megabytes);
            await site.WaitForMirrorsAsync(repo, "tokyo");
            var benchScratch = Path.Combine(scratch, "serving");
            Directory.CreateDirectory(benchScratch);
            gitlab.Grant("ci", "cached-token", repo.PathWithNamespace);
            await Serving.CloneSecondsAsync(benchScratch, $"http://ci:cached-token@127.0.0.1:{port}/{repo.PathWithNamespace}.git"); // warm-up, fills the cache
            for (var i = 0; i < runs; i++)
            {
                local.Add(await Serving.CloneSecondsAsync(benchScratch, "file://" + repo.BarePath));
                wan.Add(await Serving.CloneSecondsAsync(benchScratch, $"http://ci:cached-token@{wanUrl["http://".Length..]}/{repo.PathWithNamespace}.git"));
                var fresh = $"token-{i}"; // a credential never seen: its decision is asked of the primary
                gitlab.Grant("ci", fresh, repo.PathWithNamespace);
                siteAsked.Add(await Serving.CloneSecondsAsync(benchScratch, $"http://ci:{fresh}@127.0.0.1:{port}/{repo.PathWithNamespace}.git"));
                siteCached.Add(await Serving.CloneSecondsAsync(benchScratch, $"http://ci:cached-token@127.0.0.1:{port}/{repo.PathWithNamespace}.git"));
            }
        }
    }

    results.Add(new ScenarioResult("8. Cloning at a site",
        $"git clone --bare of a {megabytes} MB repository (incompressible files, one commit) over smart HTTP. 'WAN' is a proxy adding {Serving.OneWayDelay.TotalMilliseconds:0} ms each way per request and passing answers at {Serving.BytesPerSecond * 8 / 1_000_000} Mbit/s. From the primary: through the WAN. At the site: from geo-secondary's mirror, the access decision asked of the primary through the WAN (a credential not seen before) or cached. Floor: git clone of the bare repository over file:// (git packs it, no network). Median of {runs} runs.",
        [
            new Figure("clone from the primary across the WAN", "s", wan),
            new Figure("clone at the site, decision asked across the WAN", "s", siteAsked, Floor: Stats.Median(wan), FloorName: "clone across the WAN, s"),
            new Figure("clone at the site, decision cached", "s", siteCached, Floor: Stats.Median(siteAsked), FloorName: "decision asked, s"),
            new Figure("git clone over file:// (floor)", "s", local),
        ],
        ["The first ratio is the site's clone over the WAN clone; the second is the cached clone over the asked one (the time a cached decision saves is the difference of their medians). An anonymous first request (git's habit) also costs one question per TTL; the warm-up run filled both."]));
}

if (Selected(9))
{
    // 9. SSH logins: the AuthorizedKeysCommand as sshd runs it, the .NET verb against the NativeAOT program.
    var preload = quick ? 10_000 : 100_000;
    var logins = quick ? 20 : 100;
    Say($"ssh logins: {preload} keys, {logins} logins per run of geo-secondary authorized-keys and of geo-authorized-keys, alternating");
    await using var site = await GeoSite.StartAsync(["tokyo"], startSecondaries: false);
    site.StartSecondary("tokyo");
    await GeoSite.WaitUntilAsync(async () =>
    {
        try
        {
            return await site.QuerySecondaryAsync<long>("tokyo", "SELECT count(*) FROM ssh_keys") >= 0;
        }
        catch (Npgsql.NpgsqlException)
        {
            return false; // not migrated yet
        }
    }, TimeSpan.FromMinutes(1), () => "the secondary's registry never appeared");
    await KeysAtScale.PreloadAsync(site, "tokyo", preload);
    await SshLogins.RunAsync(site, "tokyo", 5); // warm-up, not counted: the first runs read the programs from disk
    var managed = new List<SshLogins.Run>();
    var native = new List<SshLogins.Run>();
    var psql = new List<SshLogins.Run>();
    var nativeSocket = new List<SshLogins.Run>();
    var psqlSocket = new List<SshLogins.Run>();
    for (var i = 0; i < runs; i++)
    {
        var (m, n, p, ns, ps) = await SshLogins.RunAsync(site, "tokyo", logins);
        managed.Add(m);
        native.Add(n);
        psql.Add(p);
        nativeSocket.Add(ns);
        psqlSocket.Add(ps);
    }

    List<double> P(List<SshLogins.Run> of, double percentile) => of.Select(r => Stats.Percentile(r.WallMs, percentile)).ToList();
    var nativeP50 = P(native, 50);
    var nativeP99 = P(native, 99);
    results.Add(new ScenarioResult("9. SSH logins",
        $"{preload} keys in the registry; sshd's AuthorizedKeysCommand run as sshd runs it (a new process per login, a random live key, its line read from stdout), {logins} logins of each program per run, one of each in turn, with psql as the floor in the same turn. CPU is the process's own user + system time (getrusage of the reaped child). Median of {runs} runs.",
        [
            new Figure("geo-secondary authorized-keys (dotnet), p50", "ms", P(managed, 50)),
            new Figure("geo-secondary authorized-keys (dotnet), p99", "ms", P(managed, 99)),
            new Figure("geo-secondary authorized-keys (dotnet), CPU per login", "ms", managed.Select(r => r.CpuMsPerLogin).ToList()),
            new Figure("geo-authorized-keys (NativeAOT), p50", "ms", nativeP50, "< 20 ms", Stats.Median(nativeP50) < 20, Stats.Median(P(managed, 50)), "dotnet p50, ms"),
            new Figure("geo-authorized-keys (NativeAOT), p99", "ms", nativeP99, "< 50 ms", Stats.Median(nativeP99) < 50, Stats.Median(P(managed, 99)), "dotnet p99, ms"),
            new Figure("geo-authorized-keys (NativeAOT), CPU per login", "ms", native.Select(r => r.CpuMsPerLogin).ToList(), Floor: Stats.Median(managed.Select(r => r.CpuMsPerLogin).ToList()), FloorName: "dotnet CPU per login, ms"),
            new Figure("psql, connect + SELECT 1 (floor), p50", "ms", P(psql, 50)),
            new Figure("psql, connect + SELECT 1 (floor), p99", "ms", P(psql, 99)),
            new Figure("psql, connect + SELECT 1 (floor), CPU per call", "ms", psql.Select(r => r.CpuMsPerLogin).ToList()),
            new Figure("geo-authorized-keys over the Unix socket, p50", "ms", P(nativeSocket, 50), "< 20 ms", Stats.Median(P(nativeSocket, 50)) < 20, Stats.Median(P(psqlSocket, 50)), "psql over the socket p50, ms"),
            new Figure("geo-authorized-keys over the Unix socket, p99", "ms", P(nativeSocket, 99), "< 50 ms", Stats.Median(P(nativeSocket, 99)) < 50, Stats.Median(P(psqlSocket, 99)), "psql over the socket p99, ms"),
            new Figure("geo-authorized-keys over the Unix socket, CPU per login", "ms", nativeSocket.Select(r => r.CpuMsPerLogin).ToList(), Floor: Stats.Median(psqlSocket.Select(r => r.CpuMsPerLogin).ToList()), FloorName: "psql over the socket CPU per call, ms"),
            new Figure("psql over the socket (floor), p50", "ms", P(psqlSocket, 50)),
        ],
        ["Ratios in the first rows are the native program's figure over the .NET verb's in the same run; in the socket rows, over psql's over the same socket. The psql floor is PostgreSQL's own C client making the same kind of connection (process start, authentication, one round trip), with no Geo code. The socket rows set ConnectionStrings:AuthorizedKeys to a Unix-socket connection without a password (trusted locally here; peer authentication in production): no TCP, no SCRAM key derivation. The rest of a login (sshd's own key exchange and PostgreSQL's backend start for the connection) is outside the programs' CPU."]));
}

if (Selected(10))
{
    // 10. Leader takeover between two geo-primary instances.
    var kills = quick ? 3 : 7;
    Say($"failover: two geo-primary instances, the leader SIGKILLed {kills} times");
    List<double> takeover, publishPause;
    await using (var site = await GeoSite.StartAsync(["tokyo"], startSecondaries: false))
    {
        (takeover, publishPause) = await HighAvailability.FailoverAsync(site, kills, 20_000_000L);
    }

    results.Add(new ScenarioResult("10. Dispatcher failover (two geo-primary instances)",
        $"Two geo-primary instances on one database (Primary:LeaderRetryInterval 1 s, the default). The leader is SIGKILLed, a key_create hook is posted to the survivor at once; takeover is until the survivor's /health/ready says leader, the publishing pause until that hook is confirmed by the broker. Median of {kills} kills; the killed instance is restarted between kills.",
        [
            new Figure("kill → survivor leads", "ms", takeover, "< 5000 ms", Stats.Median(takeover) < 5000),
            new Figure("kill → hook accepted by the survivor is published", "ms", publishPause),
        ],
        ["Hooks are not paused: the survivor accepts them throughout (a load balancer retries the dead instance's connections on it)."]));
}

if (Selected(11))
{
    // 11. One vs two geo-secondary instances of one site.
    var repositories = quick ? 20 : 100;
    Say($"secondary instances: {repositories} new repositories mirrored by one instance, then by two");
    var one = new List<double>();
    var two = new List<double>();
    await using (var site = await GeoSite.StartAsync(["tokyo"]))
    {
        // Warm-ups first, not counted: fresh processes run cold (JIT) code.
        await HighAvailability.MirroredPerSecondAsync(site, repositories / 2, 30_000_000L);
        for (var i = 0; i < runs; i++)
        {
            one.Add(await HighAvailability.MirroredPerSecondAsync(site, repositories, 31_000_000L + (i * 1_000_000L)));
        }

        site.StartSecondary("tokyo", instance: "2");
        await site.WaitForSecondaryAsync("tokyo.2");
        await HighAvailability.MirroredPerSecondAsync(site, repositories / 2, 40_000_000L);
        for (var i = 0; i < runs; i++)
        {
            two.Add(await HighAvailability.MirroredPerSecondAsync(site, repositories, 41_000_000L + (i * 1_000_000L)));
        }
    }

    results.Add(new ScenarioResult("11. Secondary instances (one vs two)",
        $"{repositories} new repositories (one commit each) announced by push hooks, from the first hook to the last mirror, with one geo-secondary instance and then two sharing the site's queue, database and mirror storage, in the same run, each after a warm-up. Median of {runs} runs each.",
        [
            new Figure("one instance", "repositories/s", one),
            new Figure("two instances", "repositories/s", two, Floor: Stats.Median(one), FloorName: "one instance, repositories/s"),
        ],
        ["Both instances share this machine's cores with geo-primary, PostgreSQL and RabbitMQ: the ratio shows what a second instance adds when the cores are not already the limit."]));
}

if (Selected(12))
{
    // 12. Lag through a site broker (infra/site-broker) against direct consumption, both in the same run.
    var keys = quick ? 40 : 200;
    const int perSecond = 20;
    Say($"site broker: {keys} key hooks at {perSecond}/s, one secondary on the primary's broker, one on a site broker fed by a shovel");
    var direct = new Dictionary<string, List<double>> { ["p50"] = [], ["p95"] = [] };
    var viaSite = new Dictionary<string, List<double>> { ["p50"] = [], ["p95"] = [] };
    var site = await SiteBrokerLag.StartAsync();
    try
    {
        await SiteBrokerLag.LagsMsAsync(site, keys / 4, perSecond, 5_000_000L); // warm-up, not counted
        for (var i = 0; i < runs; i++)
        {
            var lags = await SiteBrokerLag.LagsMsAsync(site, keys, perSecond, 6_000_000L + (i * 100_000L));
            direct["p50"].Add(Stats.Percentile(lags["direct"], 50));
            direct["p95"].Add(Stats.Percentile(lags["direct"], 95));
            viaSite["p50"].Add(Stats.Percentile(lags["site"], 50));
            viaSite["p95"].Add(Stats.Percentile(lags["site"], 95));
        }
    }
    finally
    {
        await SiteBrokerLag.StopAsync(site);
    }

    results.Add(new ScenarioResult("12. Lag through a site broker",
        $"{keys} key_create hooks posted one at a time at {perSecond}/s; each key's lag from just before its hook is posted to the secondary's registry write. Two secondaries of one primary in the same run: 'direct' consumes from the primary's broker, 'site' from a separate one-node broker on this machine fed by infra/site-broker's shovel (ack-mode on-confirm). Median of {runs} runs.",
        [
            new Figure("direct, p50", "ms", direct["p50"]),
            new Figure("direct, p95", "ms", direct["p95"]),
            new Figure("through the site broker, p50", "ms", viaSite["p50"], Floor: Stats.Median(direct["p50"]), FloorName: "direct p50 ms"),
            new Figure("through the site broker, p95", "ms", viaSite["p95"], Floor: Stats.Median(direct["p95"]), FloorName: "direct p95 ms"),
        ],
        ["Both brokers are on loopback: the figure is the shovel's own cost (one more confirmed hop), not a WAN's round trip, which a real site adds once per shovel batch (prefetch 200)."]));
}

if (Selected(13))
{
    // 13. Cost per stage: CPU per event per process, and the lag split into stages (Observability:StageTrace).
    Say("cost per stage: key_create and pushes (10/s over 1,000 repositories, 100/s over 100), with 1 and 3 secondaries");
    results.Add(new ScenarioResult("13. Cost per stage",
        $"Per event type, each process's own CPU (utime + stime from /proc/<pid>/stat) over the phase divided by its events, and the lag split into stages from the stage trace (Observability:StageTrace) of geo-primary and each geo-secondary, with the harness's clock for 'hook sent'. Phases, each run in turn: key_create hooks 16 at a time; pushes at 10/s over 1,000 repositories for 30 s (realistic); pushes at 100/s over 100 of them for 20 s (peak); with 1 and then 3 secondaries (a fresh site each, repositories cloned first, a warm-up not counted). A phase lasts until every secondary has applied its last event. Median of {runs} runs.",
        await StageCost.RunAsync(quick, runs, Say),
        ["A secondary's stages are per event and secondary; a sync's 'started' (after the coalesce window, a fetch slot and the repository's lock) and 'fetch done' are those of the sync that covered the event. 'published' is when geo-primary had the broker's confirm: the broker may deliver before the confirm reaches geo-primary, so 'published → delivered' can be negative.",
         "CPU per event: PostgreSQL is the backends on this site's databases (not the shared WAL writer, checkpointer and the like); RabbitMQ is the whole broker, shared with anything else using it; the harness makes the commits (LibGit2Sharp) and posts the hooks; the machine figure is every process's busy CPU, other work on the machine included. 'idle' is CPU per second with nothing sent: the part of a low-rate phase's CPU per event that is not the events'."]));
}

await Report.WriteAsync(output, quick, results);
Directory.Delete(scratch, recursive: true); // after the report: 100,000 generated repositories take minutes to delete
Say($"report: {Path.Combine(output, "bench.md")} and bench.json");
Console.WriteLine(await File.ReadAllTextAsync(Path.Combine(output, "bench.md")));
