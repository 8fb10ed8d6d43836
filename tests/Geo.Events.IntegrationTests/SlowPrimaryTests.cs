using Geo.Events.Testing;
using static Geo.Events.Testing.PrimaryRepository;

namespace Geo.Events.IntegrationTests;

/// <summary>
/// A primary that accepts connections and then says nothing, or stops halfway: the secondary's fetches and
/// downloads give up after their timeouts, try again, and converge once the primary answers; meanwhile the
/// rest of its work goes on. The faults come from a proxy in front of the real servers (git's own smart HTTP
/// server, geo-primary's file API).
/// </summary>
[TestClass]
public sealed class SlowPrimaryTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    [TestMethod]
    public async Task AFetchFromAStalledGitServerTimesOutWithoutWedgingOtherFetchesAndConvergesOnceItAnswers()
    {
        await using var site = await GeoSite.StartAsync(["tokyo"], startSecondaries: false);
        await using var git = await GitHttpServer.StartAsync(site.StorageRoot);
        await using var proxy = await FaultyProxy.StartAsync(git.BaseUrl);
        proxy.Faults = path => path.StartsWithSegments("/slow") ? new ProxyFault.Silence() : null;
        site.StartSecondary("tokyo", new Dictionary<string, string>
        {
            ["Secondary:PrimaryGitUrl"] = proxy.BaseUrl.ToString(),
            ["Secondary:GitTimeout"] = "00:00:01",
            ["Secondary:ConcurrentSyncs"] = "1", // one fetch slot: a fetch that hung on to it would stop every other
            ["Retry:Immediate"] = "100ms",
            ["Retry:Delays"] = string.Join(',', Enumerable.Repeat("1s", 30)),
        });
        await site.WaitForSecondaryAsync("tokyo");

        var stuck = await site.CreateRepositoryAsync("slow/stuck");
        var stuckHead = await stuck.CommitAndPushAsync("waits for the primary");
        var fine = await site.CreateRepositoryAsync("team/fine");
        var fineHead = await fine.CommitAndPushAsync("goes through");

        await site.Hooks.AcceptedAsync(Hooks.Push("push", 1, stuck.PathWithNamespace, "refs/heads/main", Zero, stuckHead));
        await GeoSite.WaitUntilAsync(() => Task.FromResult(proxy.Faulted.Count > 0), Timeout, () => "the stuck fetch never reached the git server");
        await site.Hooks.AcceptedAsync(Hooks.Push("push", 2, fine.PathWithNamespace, "refs/heads/main", Zero, fineHead));

        await site.WaitForMirrorsAsync(fine);
        Assert.IsFalse(Directory.Exists(site.MirrorPath("tokyo", stuck.PathWithNamespace)), "the stalled repository has a mirror although its server never answered");
        await GeoSite.WaitUntilAsync(() => Task.FromResult(proxy.Faulted.Count >= 3), Timeout, () => $"the stalled fetch was not retried ({proxy.Faulted.Count} attempts)");
        StringAssert.Contains(site.Secondary("tokyo").Log(), "timed out", "the log does not say why the fetch failed");

        proxy.Faults = _ => null;
        await site.WaitForMirrorsAsync(stuck);
        await Shell.RunAsync("git", site.MirrorPath("tokyo", stuck.PathWithNamespace), "fsck", "--strict");
        Assert.AreEqual(stuckHead, (await ReadRefsAsync(site.MirrorPath("tokyo", stuck.PathWithNamespace)))["refs/heads/main"]);

        // Every attempt that timed out built its clone in .tmp (while it ran, one is there); none is left behind.
        Assert.IsEmpty(Directory.GetFileSystemEntries(Path.Combine(site.MirrorRoot("tokyo"), ".tmp")), "a clone that timed out left its temp folder behind");
    }

    [TestMethod]
    public async Task ADownloadThatStallsMidwayOrGetsNoAnswerIsStoppedAndResumed()
    {
        await using var site = await GeoSite.StartAsync(["tokyo"], startSecondaries: false, register: true);
        await using var proxy = await FaultyProxy.StartAsync(site.PrimaryUrl);
        var downloads = 0;
        proxy.Faults = path => !path.Value!.Contains("/files/", StringComparison.Ordinal) ? null : Interlocked.Increment(ref downloads) switch
        {
            1 => new ProxyFault.StallAfter(300_000), // headers and the first 300,000 bytes, then nothing
            2 => new ProxyFault.Silence(),           // the resumed request gets no answer at all
            _ => null,
        };
        site.StartSecondary("tokyo", new Dictionary<string, string>
        {
            ["Secondary:PrimaryUrl"] = proxy.BaseUrl.ToString(),
            ["Secondary:DownloadIdleTimeout"] = "00:00:01",
            ["Retry:Immediate"] = "100ms,100ms,100ms",
            ["Retry:Delays"] = "none",
        });
        await site.WaitForSecondaryAsync("tokyo");

        var path = "stalls/big.bin";
        var (size, sha) = FileTests.WriteRandom(Path.Combine(site.PrimaryFiles("upload"), path), 1_000_000);
        await site.Hooks.AcceptedAsync(FileTests.FileEvent("upload_create", path, size, sha));

        await FileTests.WaitForStateAsync(site, "tokyo", path, "present", Timeout);
        Assert.AreEqual(sha, FileTests.Sha256(Path.Combine(site.SecondaryFiles("tokyo", "upload"), path)));
        // The stalled request and the silent one (without a limit on the wait for headers it would hold the
        // consumer for ever) were both given up, and the file came within the retry budget: one request per
        // attempt, 1 + 3 quick retries. A busy machine may starve one good attempt past the idle timeout, so
        // the count is a range, not exactly three.
        var requests = Volatile.Read(ref downloads);
        Assert.IsTrue(requests is >= 3 and <= 4, $"{requests} download requests: not a stalled, a silent and a good one within 1 + 3 attempts");
        var log = site.Secondary("tokyo").Log();
        StringAssert.Contains(log, "no bytes of stalls/big.bin for 1s");
        StringAssert.Contains(log, "Resuming stalls/big.bin at byte 300000", "the third attempt did not resume where the stalled one stopped");
    }
}
