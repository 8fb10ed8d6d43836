using System.Collections.Concurrent;
using System.Diagnostics;
using Geo.Events.Testing;

namespace Geo.Events.Benchmarks.Scenarios;

/// <summary>
/// Pushes at a steady rate over many repositories, each announced by its push hook, with three
/// secondaries: the lag from the moment the hook is sent to the moment each mirror has the pushed commit.
/// </summary>
public static class ReplicationLag
{
    private sealed record Pending(string Site, BareRepository Repo, int Index, long SentTicks);

    public static async Task<List<double>> LagsMsAsync(GeoSite site, string[] sites, int repositories, int pushesPerSecond, TimeSpan duration, long firstProjectId)
    {
        var repos = Enumerable.Range(0, repositories)
            .Select(i => new BareRepository(Path.Combine(site.StorageRoot, "lag", $"r{firstProjectId + i}.git"), $"lag/r{firstProjectId + i}"))
            .ToArray();
        try
        {
            // First push of each repository: the clones, not measured.
            foreach (var (repo, i) in repos.Select((r, i) => (r, i)))
            {
                var (before, after) = repo.Push();
                await site.Hooks.AcceptedAsync(Hooks.Push("push", firstProjectId + i, repo.PathWithNamespace, "refs/heads/main", before, after));
            }

            foreach (var repo in repos)
            {
                foreach (var name in sites)
                {
                    await GeoSite.WaitUntilAsync(() => Task.FromResult(BareRepository.ReadRef(site.MirrorPath(name, repo.PathWithNamespace), "refs/heads/main") == repo.Head),
                        TimeSpan.FromMinutes(5), () => $"{name} never cloned {repo.PathWithNamespace}");
                }
            }

            // Which push each commit is, per repository, so a mirror that skipped ahead counts every push it covers.
            var pushIndex = new ConcurrentDictionary<string, int>();
            var pending = new ConcurrentDictionary<(string Site, string Repo, int Index), Pending>();
            var lags = new ConcurrentBag<double>();
            var posting = new List<Task>();
            using var stop = new CancellationTokenSource();

            var poller = Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested || !pending.IsEmpty)
                {
                    foreach (var entry in pending.Values)
                    {
                        var sha = BareRepository.ReadRef(site.MirrorPath(entry.Site, entry.Repo.PathWithNamespace), "refs/heads/main");
                        if (sha is not null && pushIndex.TryGetValue(sha, out var reached) && reached >= entry.Index
                            && pending.TryRemove((entry.Site, entry.Repo.PathWithNamespace, entry.Index), out _))
                        {
                            lags.Add(Stopwatch.GetElapsedTime(entry.SentTicks).TotalMilliseconds);
                        }
                    }

                    await Task.Delay(2);
                }
            });

            var interval = TimeSpan.FromSeconds(1.0 / pushesPerSecond);
            var total = (int)(duration.TotalSeconds * pushesPerSecond);
            var clock = Stopwatch.StartNew();
            for (var n = 0; n < total; n++)
            {
                var due = interval * n;
                await Pacing.UntilAsync(clock, due);

                var i = n % repos.Length;
                var repo = repos[i];
                var (before, after) = repo.Push();
                var index = n + 1;
                pushIndex[after] = index;
                posting.Add(Task.Run(async () =>
                {
                    // The clock starts before the hook is sent: the lag includes geo-primary's answer, as GitLab sees it.
                    var sent = Stopwatch.GetTimestamp();
                    foreach (var name in sites)
                    {
                        pending[(name, repo.PathWithNamespace, index)] = new Pending(name, repo, index, sent);
                    }

                    await site.Hooks.AcceptedAsync(Hooks.Push("push", firstProjectId + i, repo.PathWithNamespace, "refs/heads/main", before, after));
                }));
            }

            await Task.WhenAll(posting);
            await stop.CancelAsync();
            await poller.WaitAsync(TimeSpan.FromMinutes(5));
            return [.. lags];
        }
        finally
        {
            foreach (var repo in repos)
            {
                repo.Dispose();
            }
        }
    }

    /// <summary>100 pushes to one repository within about a second: how many fetches each secondary makes.</summary>
    public static async Task<List<double>> CoalescedFetchesAsync(GeoSite site, string[] sites, int pushes, long projectId)
    {
        using var repo = new BareRepository(Path.Combine(site.StorageRoot, "burst", $"b{projectId}.git"), $"burst/b{projectId}");
        var (first, firstAfter) = repo.Push();
        await site.Hooks.AcceptedAsync(Hooks.Push("push", projectId, repo.PathWithNamespace, "refs/heads/main", first, firstAfter));
        foreach (var name in sites)
        {
            await GeoSite.WaitUntilAsync(() => Task.FromResult(BareRepository.ReadRef(site.MirrorPath(name, repo.PathWithNamespace), "refs/heads/main") == firstAfter),
                TimeSpan.FromMinutes(2), () => $"{name} never cloned the burst repository");
        }

        var baseline = new Dictionary<string, long>();
        foreach (var name in sites)
        {
            baseline[name] = await site.QuerySecondaryAsync<long>(name, "SELECT sync_count FROM projects WHERE project_id = @projectId", new { projectId });
        }

        var posts = new List<Task<long>>();
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < pushes; i++)
        {
            var due = TimeSpan.FromMilliseconds(1000.0 * i / pushes);
            await Pacing.UntilAsync(clock, due);

            var (before, after) = repo.Push();
            posts.Add(site.Hooks.AcceptedAsync(Hooks.Push("push", projectId, repo.PathWithNamespace, "refs/heads/main", before, after)));
        }

        var lastSequence = (await Task.WhenAll(posts)).Max();
        var head = repo.Head;
        var fetches = new List<double>();
        foreach (var name in sites)
        {
            await GeoSite.WaitUntilAsync(() => Task.FromResult(BareRepository.ReadRef(site.MirrorPath(name, repo.PathWithNamespace), "refs/heads/main") == head),
                TimeSpan.FromMinutes(2), () => $"{name} never caught up with the burst");
            // Every event consumed and covered: no later message can still cost a fetch.
            await GeoSite.WaitUntilAsync(
                async () => await site.QuerySecondaryAsync<long>(name, "SELECT least(max_seen_sequence, last_synced_sequence) FROM projects WHERE project_id = @projectId", new { projectId }) >= lastSequence,
                TimeSpan.FromMinutes(2), () => $"{name} left events uncovered");
            fetches.Add(await site.QuerySecondaryAsync<long>(name, "SELECT sync_count FROM projects WHERE project_id = @projectId", new { projectId }) - baseline[name]);
        }

        return fetches;
    }
}
