using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Geo.Events.Testing;

namespace Geo.Events.Benchmarks.Scenarios;

/// <summary>
/// geo-primary's repository change detector over a storage of many repositories: the cost of a pass when nothing
/// changed, the time from a hookless push to the commit on every secondary, and the fetches that hooked pushes
/// cost with the detector on and off.
/// </summary>
public static class ChangeDetector
{
    public sealed record Cost(double PassMs, double CpuMsPerPass, double CorePercent, double FirstPassSeconds, double GenerateSeconds);

    /// <summary>
    /// Writes <paramref name="count"/> repositories into GitLab's hashed layout under <paramref name="storage"/>, ids
    /// 1…count: HEAD, a config with gitlab.fullpath, packed-refs naming one commit, refs folders, and objects shared
    /// with one real repository through alternates. Git reads each as a one-commit repository.
    /// </summary>
    public static async Task<double> GenerateAsync(string storage, int count, string scratch)
    {
        var started = Stopwatch.GetTimestamp();
        var source = await PrimaryRepository.CreateAsync(Path.Combine(scratch, "source"), "bench/source", Path.Combine(scratch, "source-work"));
        var sha = await source.CommitAndPushAsync("shared history");
        var objects = Path.Combine(source.BarePath, "objects");
        Parallel.For(1, count + 1, new ParallelOptions { MaxDegreeOfParallelism = 2 }, id =>
        {
            var dir = HashedPath(storage, id);
            Directory.CreateDirectory(Path.Combine(dir, "refs", "heads"));
            Directory.CreateDirectory(Path.Combine(dir, "refs", "tags"));
            Directory.CreateDirectory(Path.Combine(dir, "objects", "info"));
            File.WriteAllText(Path.Combine(dir, "HEAD"), "ref: refs/heads/main\n");
            File.WriteAllText(Path.Combine(dir, "config"), $"[core]\n\trepositoryformatversion = 0\n\tbare = true\n[gitlab]\n\tfullpath = bench/p{id}\n");
            File.WriteAllText(Path.Combine(dir, "packed-refs"), $"# pack-refs with: peeled fully-peeled sorted \n{sha} refs/heads/main\n");
            File.WriteAllText(Path.Combine(dir, "objects", "info", "alternates"), objects + "\n");
        });
        return Stopwatch.GetElapsedTime(started).TotalSeconds;
    }

    public static string HashedPath(string storage, long id)
    {
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(id.ToString(CultureInfo.InvariantCulture))));
        return Path.Combine(storage, "@hashed", hash[..2], hash[2..4], hash + ".git");
    }

    /// <summary>
    /// Waits for the first pass over <paramref name="count"/> repositories, then measures <paramref name="passes"/> passes with
    /// nothing changed. Over the very same window it reads the CPU of <paramref name="floor"/>'s geo-primary (the same
    /// storage, its detector off, its /metrics asked as often): the floor is measured in the same phase, under the same
    /// load, so the difference is the detector's.
    /// </summary>
    public static async Task<(double FirstPassSeconds, double PassMs, double CpuMsPerPass, double CorePercent, double FloorCpuMsPerPass, double FloorCpuMsPerInterval, double OwnCorePercent)> IdleCostAsync(
        GeoSite site, int count, int passes, TimeSpan interval, GeoSite floor)
    {
        var started = Stopwatch.GetTimestamp();
        await GeoSite.WaitUntilAsync(async () => (await MetricAsync(site, "geo_repository_scan_repositories")) >= count && await MetricAsync(site, "geo_repository_scan_duration_seconds_count") >= 1,
            TimeSpan.FromMinutes(20), () => "the detector's first pass did not finish");
        var firstPass = Stopwatch.GetElapsedTime(started).TotalSeconds;
        // One more pass, so the measured ones are steady ones.
        await PassesAsync(site, 1);
        var sum0 = await MetricAsync(site, "geo_repository_scan_duration_seconds_sum");
        var count0 = await MetricAsync(site, "geo_repository_scan_duration_seconds_count");
        using var stop = new CancellationTokenSource();
        var floorCpu0 = floor.Primary.CpuTime();
        var cpu0 = site.Primary.CpuTime();
        var wall0 = Stopwatch.GetTimestamp();
        var polling = Task.Run(async () =>
        {
            // As PassesAsync asks the measured one: a scrape, then 200 ms.
            while (!stop.IsCancellationRequested)
            {
                await MetricAsync(floor, "geo_repository_scan_duration_seconds_count");
                await Task.Delay(200, CancellationToken.None);
            }
        });
        await PassesAsync(site, passes);
        var cpu = (site.Primary.CpuTime() - cpu0).TotalMilliseconds;
        var floorCpu = (floor.Primary.CpuTime() - floorCpu0).TotalMilliseconds;
        var wall = Stopwatch.GetElapsedTime(wall0).TotalMilliseconds;
        await stop.CancelAsync();
        await polling;
        var done = await MetricAsync(site, "geo_repository_scan_duration_seconds_count") - count0;
        var passMs = (await MetricAsync(site, "geo_repository_scan_duration_seconds_sum") - sum0) * 1000 / done;
        // The whole process's CPU over whole intervals (dispatcher polls and all), per pass and as a share of one core;
        // the floor's per pass and per interval; the difference of the two over the same window as a share of one core.
        return (firstPass, passMs, cpu / done, 100 * cpu / wall, floorCpu / done, floorCpu * interval.TotalMilliseconds / wall, 100 * (cpu - floorCpu) / wall);
    }

    /// <summary>
    /// Hookless pushes to <paramref name="repos"/> (already on every secondary), each at a random moment within two
    /// intervals: milliseconds from the push to the commit on the last of the secondaries.
    /// </summary>
    public static async Task<List<double>> HooklessLagsMsAsync(GeoSite site, string[] sites, IReadOnlyList<PrimaryRepository> repos, TimeSpan interval, int seed)
    {
        var random = new Random(seed);
        var delays = repos.Select(_ => TimeSpan.FromMilliseconds(random.NextDouble() * 2 * interval.TotalMilliseconds)).ToList();
        var lags = await Task.WhenAll(repos.Select(async (repo, i) =>
        {
            await Task.Delay(delays[i]);
            var sha = await repo.CommitAndPushAsync($"hookless {seed}");
            var pushed = Stopwatch.GetTimestamp();
            await GeoSite.WaitUntilAsync(() => Task.FromResult(sites.All(name => BareRepository.ReadRef(site.MirrorPath(name, repo.PathWithNamespace), "refs/heads/main") == sha)),
                TimeSpan.FromMinutes(5), () => $"{repo.PathWithNamespace} never reached every secondary");
            return Stopwatch.GetElapsedTime(pushed).TotalMilliseconds;
        }));
        return [.. lags];
    }

    /// <summary>Clones and fetches made by every secondary together, from their /metrics.</summary>
    public static async Task<double> FetchesAsync(GeoSite site, string[] sites)
    {
        var total = 0.0;
        foreach (var name in sites)
        {
            using var http = new HttpClient { BaseAddress = site.SecondaryUrl(name) };
            var text = await http.GetStringAsync("/metrics");
            total += Metric(text, "geo_fetch_duration_seconds_count{kind=\"fetch\"}") + Metric(text, "geo_fetch_duration_seconds_count{kind=\"clone\"}");
        }

        return total;
    }

    public static async Task PassesAsync(GeoSite site, int count)
    {
        var start = await MetricAsync(site, "geo_repository_scan_duration_seconds_count");
        await GeoSite.WaitUntilAsync(async () => await MetricAsync(site, "geo_repository_scan_duration_seconds_count") >= start + count,
            TimeSpan.FromMinutes(10), () => "the detector does not pass");
    }

    private static async Task<double> MetricAsync(GeoSite site, string name) => Metric(await site.Http.GetStringAsync("/metrics"), name);

    private static double Metric(string text, string name)
    {
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith(name + " ", StringComparison.Ordinal))
            {
                return double.Parse(line[(name.Length + 1)..], CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }
}
