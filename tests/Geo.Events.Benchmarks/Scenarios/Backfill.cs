using System.Diagnostics;
using Geo.Events.Testing;
using static Geo.Events.Testing.PrimaryRepository;

namespace Geo.Events.Benchmarks.Scenarios;

/// <summary>
/// A new secondary registers and backfills N repositories: seconds from its start to a finished backfill
/// run (every project fetched and its refs checksum equal to the primary's), against a plain loop of
/// <c>git clone --mirror</c> over the same repositories.
/// </summary>
public static class Backfill
{
    /// <summary>Creates <paramref name="count"/> one-commit repositories (copies of one) and tells geo-primary their ids.</summary>
    public static async Task<IReadOnlyList<string>> CreateRepositoriesAsync(GeoSite site, int count)
    {
        var template = await site.CreateRepositoryAsync("bench/template");
        var sha = await template.CommitAndPushAsync("the only commit");
        var paths = Enumerable.Range(1, count).Select(i => $"bench/repo{i:0000}").ToList();
        foreach (var path in paths)
        {
            template.CopyBareTo(Path.Combine(site.StorageRoot, path + ".git"));
        }

        await Parallel.ForEachAsync(paths.Select((path, i) => (path, id: 10_000L + i)), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (p, _) =>
            await site.Hooks.AcceptedAsync(Hooks.Push("push", p.id, p.path, "refs/heads/main", Zero, sha)));
        return paths;
    }

    /// <summary>Seconds from starting a new secondary to its first backfill having finished, all matched.</summary>
    public static async Task<double> SecondsAsync(GeoSite site, string name, int count)
    {
        var clock = Stopwatch.StartNew();
        site.StartSecondary(name);
        await GeoSite.WaitUntilAsync(async () =>
        {
            try
            {
                return await site.QuerySecondaryAsync<long>(name, "SELECT count(*) FROM reconcile_runs WHERE kind = 'backfill' AND state = 'finished'") == 1;
            }
            catch (Npgsql.NpgsqlException)
            {
                return false; // not created or migrated yet
            }
        }, TimeSpan.FromMinutes(30), () => $"{name}'s backfill did not finish");
        var seconds = clock.Elapsed.TotalSeconds;
        var (fetched, failed) = await site.QuerySecondaryAsync<(int, int)>(name, "SELECT repaired, failed FROM reconcile_runs WHERE kind = 'backfill'");
        if (fetched != count || failed != 0)
        {
            throw new InvalidOperationException($"{name}'s backfill fetched {fetched} and failed {failed} of {count} repositories");
        }

        await site.KillSecondaryAsync(name);
        return seconds;
    }

    /// <summary>
    /// The baseline: <c>git clone --mirror</c> of every repository, <paramref name="concurrency"/> at a time
    /// (1: one after another; 4: as many at once as the secondary's default Secondary:ConcurrentSyncs).
    /// </summary>
    public static async Task<double> CloneSecondsAsync(GeoSite site, IReadOnlyList<string> paths, int concurrency)
    {
        var target = Path.Combine(site.Root, "clone-loop-" + Guid.NewGuid().ToString("N")[..6]);
        Directory.CreateDirectory(target);
        var clock = Stopwatch.StartNew();
        await Parallel.ForEachAsync(paths, new ParallelOptions { MaxDegreeOfParallelism = concurrency }, async (path, _) =>
            await Shell.RunAsync("git", target, "clone", "-q", "--mirror", Path.Combine(site.StorageRoot, path + ".git"), path.Replace('/', '_') + ".git"));
        var seconds = clock.Elapsed.TotalSeconds;
        Directory.Delete(target, recursive: true);
        return seconds;
    }
}
