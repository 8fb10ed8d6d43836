using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Geo.Events.Testing;

namespace Geo.Events.IntegrationTests;

/// <summary>
/// geo-primary and geo-secondary on the three-node cluster of infra/local/cluster (started here, stopped at the end),
/// with RabbitMq:Hosts listing the three nodes. Long: make test-ha.
/// </summary>
[TestClass]
[TestCategory("HA")]
public sealed class ClusterFailoverTests
{
    private const string Queue = "geo.secondary.tokyo";

    [ClassInitialize]
    public static async Task StartCluster(TestContext _) => await TestBroker.Cluster.UpAsync();

    [ClassCleanup]
    public static async Task StopCluster() => await TestBroker.Cluster.DownAsync();

    /// <summary>
    /// Under a steady stream of pushes, keys and files: kill -9 the node leading the secondary's queue; while it is down,
    /// stop a second one (the queue has no majority: publishing waits, hooks are still accepted with 202); restart the
    /// first, then the second. Every accepted event is applied, each key is in authorized_keys once, each file whole,
    /// each mirror equal to the primary's repository, and every queue (the secondary's, its delay queues, _error) has a
    /// replica on all three nodes again.
    /// </summary>
    [TestMethod]
    public async Task AStreamOfPushesKeysAndFilesSurvivesTheLeadersCrashAndALostMajority()
    {
        var cluster = TestBroker.Cluster;
        await using var site = await GeoSite.StartAsync(["tokyo"], startSecondaries: false, register: true, broker: cluster);
        var keysFile = Path.Combine(site.Root, "authorized_keys");
        site.StartSecondary("tokyo", new Dictionary<string, string>
        {
            ["Keys:AuthorizedKeysFile"] = keysFile,
            ["Retry:Immediate"] = "none",
            ["Retry:Delays"] = "1s,2s",
        });
        await site.WaitForSecondaryAsync("tokyo");

        // One poisoned file (its checksum is wrong) goes through both delay queues into _error and on to geo-primary's
        // dead letters: every kind of queue the secondary has now exists.
        FileTests.WriteRandom(Path.Combine(site.PrimaryFiles("lfs_object"), "00/00/poisoned"), 1000);
        await site.Hooks.AcceptedAsync(FileTests.FileEvent("lfs_object_create", "00/00/poisoned", 1000, new string('0', 64)));
        await GeoSite.WaitUntilAsync(async () => await site.QueryPrimaryAsync<long>("SELECT count(*) FROM dead_letters") == 1,
            TimeSpan.FromSeconds(60), () => "the poisoned file never reached the dead letters");
        await AssertEveryQueueOnEveryNodeAsync(site);

        var repos = new List<(PrimaryRepository Repo, long Id)>();
        for (var i = 0; i < 3; i++)
        {
            var (repo, _) = await site.CreatePushedRepositoryAsync($"ha/repo{i}", 40 + i);
            repos.Add((repo, 40 + i));
        }

        var keys = new ConcurrentDictionary<long, string>();
        var posted = new ConcurrentDictionary<long, DateTime>(); // when each key's hook was posted: what each failure cost, printed
        var files = new ConcurrentDictionary<string, string>();
        var notAccepted = new ConcurrentQueue<string>();
        using var stop = new CancellationTokenSource();
        var stream = Task.Run(async () =>
        {
            var heads = new Dictionary<long, string>();
            for (var n = 0; !stop.IsCancellationRequested; n++)
            {
                try
                {
                    var (repo, id) = repos[n % repos.Count];
                    var (sha, _) = await site.PushWithHookAsync(repo, id, $"push {n}", heads.GetValueOrDefault(id, PrimaryRepository.Zero));
                    heads[id] = sha;

                    var key = TestKeys.RandomEd25519();
                    posted[1000 + n] = DateTime.UtcNow;
                    await site.Hooks.AcceptedAsync(new JsonObject { ["event_name"] = "key_create", ["id"] = 1000 + n, ["username"] = "ha", ["key"] = key });
                    keys[1000 + n] = key.Split(' ')[1];

                    var path = $"ha/{n:D4}/file.bin";
                    var (size, hash) = FileTests.WriteRandom(Path.Combine(site.PrimaryFiles("upload"), path), 20_000);
                    await site.Hooks.AcceptedAsync(FileTests.FileEvent("upload_create", path, size, hash));
                    files[path] = hash;
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    notAccepted.Enqueue(e.Message); // AcceptedAsync insists on 202
                }

                await Task.Delay(100);
            }
        });

        await Task.Delay(5000);
        var leader = await LeaderAsync(cluster, site);
        Console.WriteLine($"killing node {leader}, which leads {Queue}, after {keys.Count} rounds");
        var killedAt = DateTime.UtcNow;
        await cluster.NodeAsync("kill", leader);
        await Task.Delay(8000);

        var second = Enumerable.Range(1, 3).First(n => n != leader);
        Console.WriteLine($"stopping node {second} as well: {Queue} has no majority");
        await cluster.NodeAsync("stop", second);
        var stoppedAt = DateTime.UtcNow; // now only one node of three runs
        var roundsBefore = keys.Count;
        const string Backlog = "SELECT count(*) FROM event_log WHERE published_at IS NULL";
        await GeoSite.WaitUntilAsync(() => Task.FromResult(keys.Count > roundsBefore + 10), TimeSpan.FromSeconds(60),
            () => $"without a majority only {keys.Count - roundsBefore} rounds of hooks were accepted");
        var waiting = await site.QueryPrimaryAsync<long>(Backlog);
        var postedSince = posted.Where(p => p.Value > stoppedAt).Select(p => p.Key).ToArray();
        var appliedSince = await site.QuerySecondaryAsync<long>("tokyo", "SELECT count(*) FROM ssh_keys WHERE key_id = ANY(@postedSince)", new { postedSince });
        Console.WriteLine($"without a majority: {keys.Count - roundsBefore} rounds accepted, {waiting} events wait in the outbox, {appliedSince} of {postedSince.Length} keys applied");
        Assert.IsTrue(waiting > 0, "the outbox marked events published while their queue had no majority");
        Assert.AreEqual(0L, appliedSince, "keys posted while the queue had no majority were applied: it had one");

        var majorityAt = DateTime.UtcNow;
        await cluster.NodeAsync("start", leader);
        var majorityBackAt = DateTime.UtcNow;
        await Task.Delay(5000);
        await cluster.NodeAsync("start", second);
        await Task.Delay(3000);
        await stop.CancelAsync();
        await stream;
        Assert.IsTrue(notAccepted.IsEmpty, $"hooks not accepted with 202: {string.Join("; ", notAccepted.Take(3))}");
        Console.WriteLine($"stream: {keys.Count} rounds of a push, a key and a file, all accepted");

        await GeoSite.WaitUntilAsync(async () => await site.QueryPrimaryAsync<long>(Backlog) == 0, TimeSpan.FromSeconds(120),
            () => "the outbox was not drained after the nodes came back");
        foreach (var (repo, _) in repos)
        {
            await site.WaitForMirrorsAsync(repo);
        }

        await GeoSite.WaitUntilAsync(async () => KeysIn(keysFile).Count(keys.Values.Contains) == keys.Count, TimeSpan.FromSeconds(120),
            () => $"{KeysIn(keysFile).Count(keys.Values.Contains)} of {keys.Count} accepted keys are in authorized_keys");
        var lines = KeysIn(keysFile);
        Assert.AreEqual(lines.Count, lines.Distinct().Count(), "a key is in authorized_keys twice");

        await GeoSite.WaitUntilAsync(
            async () => await site.QuerySecondaryAsync<long>("tokyo", "SELECT count(*) FROM files WHERE path LIKE 'ha/%' AND state = 'present'") == files.Count,
            TimeSpan.FromSeconds(120), () => $"not every one of the {files.Count} accepted files is present at the secondary");
        var store = site.SecondaryFiles("tokyo", "upload");
        foreach (var (path, hash) in files)
        {
            Assert.AreEqual(hash, FileTests.Sha256(Path.Combine(store, path)), $"{path} differs from the primary's");
        }

        Assert.AreEqual(files.Count, Directory.GetFiles(store, "*", SearchOption.AllDirectories).Length, "files other than the accepted ones (partial downloads, copies) are in the store");
        await AssertEveryQueueOnEveryNodeAsync(site);

        // What each failure cost: the longest hook → authorized_keys-registry lag of the keys posted in each phase.
        await using var connection = new Npgsql.NpgsqlConnection(TestServers.ConnectionString(site.SecondaryDatabase("tokyo")));
        var applied = (await Dapper.SqlMapper.QueryAsync<(long Id, DateTime At)>(connection, "SELECT key_id, updated_at FROM ssh_keys"))
            .ToDictionary(r => r.Id, r => r.At.ToUniversalTime());
        string Phase(DateTime from, DateTime to)
        {
            var lags = posted.Where(p => p.Value >= from && p.Value < to && applied.ContainsKey(p.Key)).Select(p => (applied[p.Key] - p.Value).TotalSeconds).ToList();
            return lags.Count == 0 ? "none posted" : $"{lags.Count} keys, lag median {lags.Order().ElementAt(lags.Count / 2):0.0} s, max {lags.Max():0.0} s";
        }

        Console.WriteLine($"before the kill: {Phase(DateTime.MinValue, killedAt)}");
        Console.WriteLine($"leader killed, two nodes left: {Phase(killedAt, stoppedAt)}");
        Console.WriteLine($"one node left, no majority ({(majorityAt - stoppedAt).TotalSeconds:0} s): {Phase(stoppedAt, majorityAt)}");
        Console.WriteLine($"majority back: {Phase(majorityBackAt, DateTime.MaxValue)}");
    }

    /// <summary>The node (1-3) leading the secondary's queue.</summary>
    private static async Task<int> LeaderAsync(TestBroker cluster, GeoSite site)
    {
        var queue = await cluster.QueueAsync(site.VirtualHost, Queue) ?? throw new InvalidOperationException($"{Queue} does not exist");
        var leader = queue.GetProperty("leader").GetString()!; // geo-c2@localhost
        return int.Parse(leader["geo-c".Length..leader.IndexOf('@', StringComparison.Ordinal)], System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task AssertEveryQueueOnEveryNodeAsync(GeoSite site)
    {
        var queues = await site.Broker.QueuesAsync(site.VirtualHost);
        var names = queues.Select(q => q.GetProperty("name").GetString()!).ToArray();
        foreach (var expected in new[] { Queue, Queue + "_error", Queue + "_skipped", Queue + ".delay.1s", Queue + ".delay.2s" })
        {
            CollectionAssert.Contains(names, expected);
        }

        foreach (var queue in queues)
        {
            var name = queue.GetProperty("name").GetString();
            Assert.AreEqual("quorum", queue.GetProperty("type").GetString(), $"{name} is not a quorum queue");
            var members = queue.TryGetProperty("members", out var m) ? m.EnumerateArray().Select(e => e.GetString()).ToArray() : [];
            Assert.AreEqual(3, members.Length, $"{name} has replicas on {string.Join(", ", members)} only");
        }
    }

    private static List<string> KeysIn(string file) => File.Exists(file)
        ? File.ReadAllLines(file).Select(l => l.Split(' ')).Where(p => p.Length >= 2).Select(p => p[^1]).ToList()
        : [];
}
