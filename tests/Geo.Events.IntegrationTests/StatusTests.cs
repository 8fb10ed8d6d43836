using System.Text.Json;
using Geo.Events.Testing;

namespace Geo.Events.IntegrationTests;

/// <summary>
/// <c>geo-admin status</c> cannot say "ok" over a backlog: the age of the oldest unapplied event is geo-primary's,
/// computed from its event log against the secondary's low watermark, so it counts what waits in the queue.
/// </summary>
[TestClass]
public sealed class StatusTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    [TestMethod]
    public async Task AStoppedSecondarysLagGrowsWithTheWallClockUntilStatusSaysBehind()
    {
        await using var site = await GeoSite.StartAsync(["nagoya"], register: true);
        var (repo, sha) = await site.CreatePushedRepositoryAsync("status/app", 71);
        await site.WaitForMirrorsAsync(repo);
        var settled = await WaitForStatusAsync(site, "nagoya", h => h.Unapplied == 0 && h.Verdict == "ok", []);

        await site.KillSecondaryAsync("nagoya");
        for (var i = 0; i < 5; i++)
        {
            (sha, _) = await site.PushWithHookAsync(repo, 71, $"while nagoya is down {i}", sha);
        }

        // Five events wait in its queue; its registry (and its last report) knows nothing of them.
        var first = await WaitForStatusAsync(site, "nagoya", h => h.Unapplied == 5, []);
        Assert.IsNotNull(first.OldestPendingSeconds, "five events wait: the oldest has an age");

        var behind = await WaitForStatusAsync(site, "nagoya", h => h.Verdict == "behind", ["--max-lag", "10s"]);
        Assert.AreEqual(5L, behind.Unapplied);
        Assert.IsTrue(behind.OldestPendingSeconds >= 10, $"behind after 10 s: {behind.OldestPendingSeconds}");
        Assert.IsTrue(behind.OldestPendingSeconds > first.OldestPendingSeconds, "the age grows with the wall clock while the secondary is stopped");
        StringAssert.Contains(behind.Reason, "5 events wait");
        Assert.AreEqual(settled.AppliedThrough, behind.AppliedThrough, "nothing was applied while it was stopped");

        // /metrics says the same, from the same computation.
        var metrics = await site.Http.GetStringAsync("/metrics");
        Assert.AreEqual(5.0, Metric(metrics, "geo_secondary_unapplied_events", "nagoya"), metrics);
        Assert.IsTrue(Metric(metrics, "geo_secondary_oldest_unapplied_age_seconds", "nagoya") >= 10, metrics);

        // The table, printed to a pipe, is not cut to 80 columns.
        var (code, table, stderr) = await site.AdminAsync("status", "--max-lag", "10s");
        Assert.AreEqual(5, code, stderr + table);
        foreach (var header in new[] { "secondary", "verdict", "heartbeat", "unapplied", "oldest unapplied", "dead letters", "behind", "5 events wait" })
        {
            StringAssert.Contains(table, header);
        }

        Assert.IsFalse(table.Contains('…', StringComparison.Ordinal), "nothing is cut short:\n" + table);

        // Started again, it applies the backlog and status is ok again.
        site.StartSecondary("nagoya");
        await site.WaitForMirrorsAsync(repo);
        var recovered = await WaitForStatusAsync(site, "nagoya", h => h.Unapplied == 0 && h.Verdict == "ok", ["--max-lag", "10s"]);
        Assert.IsNull(recovered.OldestPendingSeconds);
        Assert.IsTrue(recovered.AppliedThrough >= await site.QueryPrimaryAsync<long>("SELECT max(id) FROM event_log"));
    }

    [TestMethod]
    public async Task ASlowSecondaryShowsTheAgeOfWhatWaitsInItsQueue()
    {
        // One fetch slot and one message at a time, each fetch over git's smart HTTP (git http-backend per request):
        // the burst waits in the queue, where the secondary's registry cannot see it.
        await using var site = await GeoSite.StartAsync(["kobe"], startSecondaries: false, register: true);
        await using var git = await GitHttpServer.StartAsync(site.StorageRoot);
        site.StartSecondary("kobe", new Dictionary<string, string>
        {
            ["Secondary:PrimaryGitUrl"] = git.BaseUrl.ToString(),
            ["Secondary:ConcurrentSyncs"] = "1",
            ["Secondary:ConcurrentMessages"] = "1",
        });
        await site.WaitForSecondaryAsync("kobe");
        const int Projects = 50;
        var pushes = new List<(PrimaryRepository Repo, long Id, string Sha)>();
        for (var i = 0; i < Projects; i++)
        {
            var repo = await site.CreateRepositoryAsync($"slow/p{i}");
            pushes.Add((repo, 100 + i, await repo.CommitAndPushAsync("first")));
        }

        await WaitForStatusAsync(site, "kobe", h => h.HeartbeatAgeSeconds is not null, []);

        // The burst: every hook accepted, and when.
        var accepted = new DateTimeOffset[Projects];
        for (var i = 0; i < Projects; i++)
        {
            var (repo, id, sha) = pushes[i];
            await site.Hooks.AcceptedAsync(Hooks.Push("push", id, repo.PathWithNamespace, "refs/heads/main", PrimaryRepository.Zero, sha));
            accepted[i] = DateTimeOffset.UtcNow;
        }

        // While mirrors are missing, the oldest unapplied event is at least as old as any push whose mirror is still
        // missing after status answered: that push was not applied when status looked.
        var largestBound = 0.0;
        var snapshots = 0;
        while (true)
        {
            var asked = DateTimeOffset.UtcNow;
            var health = await StatusAsync(site, "kobe", []);
            var missing = Enumerable.Range(0, Projects).Where(i => !Directory.Exists(site.MirrorPath("kobe", pushes[i].Repo.PathWithNamespace))).ToList();
            if (missing.Count == 0)
            {
                break;
            }

            var bound = missing.Max(i => (asked - accepted[i]).TotalSeconds);
            largestBound = Math.Max(largestBound, bound);
            snapshots++;
            Assert.IsTrue(health.OldestPendingSeconds >= bound - 0.05,
                $"{missing.Count} pushes not applied, the oldest accepted {bound:0.00} s before status was asked, but status says the oldest unapplied event is {health.OldestPendingSeconds} s old ({health.Unapplied} unapplied)");
            Assert.IsTrue(health.Unapplied >= missing.Count, $"{missing.Count} pushes not applied, status counts {health.Unapplied}");
        }

        Assert.IsTrue(largestBound >= 1, $"the test saw a backlog at least 1 s old ({snapshots} looks, the oldest {largestBound:0.00} s)");
        await WaitForStatusAsync(site, "kobe", h => h.Unapplied == 0 && h.Verdict == "ok", []);
    }

    [TestMethod]
    public async Task EventsFilteredOutBySelectiveSyncDoNotCount()
    {
        await using var site = await GeoSite.StartAsync(["sendai"], register: true, secondarySettings: new Dictionary<string, string>
        {
            ["Secondary:Namespaces:0"] = "kept",
        });
        for (var i = 0; i < 3; i++)
        {
            await site.CreatePushedRepositoryAsync($"elsewhere/p{i}", 200 + i);
        }

        var (kept, _) = await site.CreatePushedRepositoryAsync("kept/app", 210);
        await site.WaitForMirrorsAsync(kept);
        var last = await site.QueryPrimaryAsync<long>("SELECT max(id) FROM event_log");

        var health = await WaitForStatusAsync(site, "sendai", h => h.AppliedThrough >= last, ["--max-lag", "1s"]);
        Assert.AreEqual(0L, health.Unapplied, "the three filtered pushes are finished with, not waiting");
        Assert.IsNull(health.OldestPendingSeconds);
        Assert.IsFalse(Directory.Exists(site.MirrorPath("sendai", "elsewhere/p0")), "selective sync left them alone");

        // Stopped, the secondary reports nothing more, and they still do not count.
        await site.KillSecondaryAsync("sendai");
        health = await StatusAsync(site, "sendai", ["--max-lag", "1s"]);
        Assert.AreEqual(0L, health.Unapplied);
    }

    /// <summary>One labelled sample of Prometheus' text format, e.g. <c>name{secondary="x"} 12.5</c>.</summary>
    private static double Metric(string metrics, string name, string secondary)
    {
        var prefix = $"{name}{{secondary=\"{secondary}\"}} ";
        var line = metrics.Split('\n').Single(l => l.StartsWith(prefix, StringComparison.Ordinal));
        return double.Parse(line[prefix.Length..], System.Globalization.CultureInfo.InvariantCulture);
    }

    private sealed record Health(string Verdict, string Reason, long Unapplied, double? OldestPendingSeconds, long AppliedThrough, double? HeartbeatAgeSeconds);

    private static async Task<Health> StatusAsync(GeoSite site, string name, string[] options)
    {
        var (code, stdout, stderr) = await site.AdminAsync(["status", "--output", "json", .. options]);
        Assert.IsTrue(code is 0 or 5, $"geo-admin status exited {code}: {stderr}{stdout}");
        var row = JsonDocument.Parse(stdout).RootElement.EnumerateArray().Single(r => r.GetProperty("name").GetString() == name);
        return new Health(
            row.GetProperty("verdict").GetString()!,
            row.GetProperty("reason").GetString()!,
            row.GetProperty("unapplied").GetInt64(),
            row.GetProperty("oldestPendingSeconds") is { ValueKind: JsonValueKind.Number } oldest ? oldest.GetDouble() : null,
            row.GetProperty("appliedThrough").GetInt64(),
            row.GetProperty("heartbeatAgeSeconds") is { ValueKind: JsonValueKind.Number } heartbeat ? heartbeat.GetDouble() : null);
    }

    private static async Task<Health> WaitForStatusAsync(GeoSite site, string name, Func<Health, bool> condition, string[] options)
    {
        Health? last = null;
        await GeoSite.WaitUntilAsync(async () => condition(last = await StatusAsync(site, name, options)), Timeout, () => $"status of {name}: {last}");
        return last!;
    }
}
