using System.Text.Json;
using Geo.Events.Contracts;
using Geo.Events.Core.Messaging;
using Geo.Events.Testing;
using MassTransit;
using static Geo.Events.Testing.PrimaryRepository;

namespace Geo.Events.IntegrationTests;

/// <summary>Retries, the error queue, and geo-admin's dlq commands, against the real processes and broker.</summary>
[TestClass]
public sealed class DeadLetterTests
{
    private static Dictionary<string, string> Retries(string delays) => new()
    {
        ["Retry:Immediate"] = "none",
        ["Retry:Delays"] = delays,
    };

    private static string Sha() => Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()) + "00000000";

    private static JsonElement Json(string text) => JsonDocument.Parse(text).RootElement;

    private static Task WaitForDeadLettersAsync(GeoSite site, long count) =>
        GeoSite.WaitUntilAsync(async () => await site.QueryPrimaryAsync<long>("SELECT count(*) FROM dead_letters") >= count,
            TimeSpan.FromSeconds(120), () => $"fewer than {count} dead letters were stored");

    /// <remarks>Run twice: geo-admin on the database and broker, then with only --url and an admin token (the admin API).</remarks>
    [TestMethod]
    [DataRow(false, DisplayName = "on the database")]
    [DataRow(true, DisplayName = "through the admin API")]
    public async Task APoisonEventEndsInTheErrorQueueAndAReplayAfterTheFixAppliesItOnce(bool throughApi)
    {
        await using var site = await GeoSite.StartAsync(["tokyo"], secondarySettings: Retries("1s"));
        if (throughApi)
        {
            await site.UseAdminApiAsync();
        }

        const long id = 31;
        // The hook arrives before the repository exists on the primary: every attempt fails.
        await site.Hooks.AcceptedAsync(Hooks.Push("push", id, "team/late", "refs/heads/main", Zero, Sha()));
        await WaitForDeadLettersAsync(site, 1);

        Assert.AreEqual("failed", await site.QuerySecondaryAsync<string>("tokyo", "SELECT state FROM projects WHERE project_id = @id", new { id }));
        var (code, stdout, stderr) = await site.AdminAsync("dlq", "list", "--output", "json");
        Assert.AreEqual(0, code, stderr);
        var group = Json(stdout).EnumerateArray().Single();
        Assert.AreEqual(1, group.GetProperty("count").GetInt32());
        Assert.AreEqual("RepositoryChanged", group.GetProperty("eventType").GetString());
        var letterId = group.GetProperty("ids")[0].GetInt64();

        (code, stdout, stderr) = await site.AdminAsync("dlq", "show", letterId.ToString(System.Globalization.CultureInfo.InvariantCulture), "--output", "json");
        Assert.AreEqual(0, code, stderr);
        var shown = Json(stdout);
        Assert.AreEqual("geo.secondary.tokyo", shown.GetProperty("originalQueue").GetString());
        Assert.AreEqual(1, shown.GetProperty("redeliveryCount").GetInt32(), "the event should have waited through the one configured delay");
        StringAssert.Contains(shown.GetProperty("exceptionType").GetString(), "LibGit2Sharp");
        Assert.IsFalse(string.IsNullOrEmpty(shown.GetProperty("stackTrace").GetString()));
        Assert.AreEqual("team/late", shown.GetProperty("body").GetProperty("message").GetProperty("pathWithNamespace").GetString());

        // The cause is fixed: the repository now exists on the primary.
        var repo = await site.CreateRepositoryAsync("team/late");
        await repo.CommitAndPushAsync("at last");

        (code, stdout, stderr) = await site.AdminAsync("dlq", "replay", letterId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.AreEqual(0, code, stderr);
        StringAssert.Contains(stdout, "replayed 1 of 1");
        await site.WaitForMirrorsAsync(repo);
        Assert.AreEqual(1L, await site.QuerySecondaryAsync<long>("tokyo", "SELECT sync_count FROM projects WHERE project_id = @id", new { id }));

        (code, stdout, _) = await site.AdminAsync("dlq", "replay", letterId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.AreEqual(0, code);
        StringAssert.Contains(stdout, "nothing to replay", "a replayed dead letter was replayed again without --force");

        // Even forced, a second replay changes nothing on the secondary: the event is covered by the sync.
        var acknowledged = (await site.QueueStatsAsync("geo.secondary.tokyo")).Acknowledged;
        (code, _, stderr) = await site.AdminAsync("dlq", "replay", letterId.ToString(System.Globalization.CultureInfo.InvariantCulture), "--force");
        Assert.AreEqual(0, code, stderr);
        await GeoSite.WaitUntilAsync(async () => (await site.QueueStatsAsync("geo.secondary.tokyo")).Acknowledged > acknowledged,
            TimeSpan.FromSeconds(60), () => "the forced replay was never consumed");
        Assert.AreEqual(1L, await site.QuerySecondaryAsync<long>("tokyo", "SELECT sync_count FROM projects WHERE project_id = @id", new { id }));
        Assert.AreEqual(1L, await site.QueryPrimaryAsync<long>("SELECT count(*) FROM dead_letters"));

        (code, stdout, stderr) = await site.AdminAsync("dlq", "history", "--output", "json");
        Assert.AreEqual(0, code, stderr);
        var batches = Json(stdout).EnumerateArray().ToList();
        Assert.AreEqual(2, batches.Count);
        Assert.IsTrue(batches.All(b => b.GetProperty("action").GetString() == "replay" && b.GetProperty("actor").GetString() == site.AdminActor));
    }

    [TestMethod]
    public async Task RedeliveryDelaysSurviveASecondaryRestart()
    {
        var settings = Retries("6s");
        await using var site = await GeoSite.StartAsync(["tokyo"], secondarySettings: settings);
        const long id = 32;
        await site.Hooks.AcceptedAsync(Hooks.Push("push", id, "team/slow", "refs/heads/main", Zero, Sha()));
        await GeoSite.WaitUntilAsync(() => Task.FromResult(site.Secondary("tokyo").Log().Contains("redelivery 1 of 1 in 6s", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(60), () => "the failure was never sent to the delay queue");

        // The message now waits in the broker's delay queue, not in the process: kill the process.
        await site.KillSecondaryAsync("tokyo");
        var repo = await site.CreateRepositoryAsync("team/slow");
        await repo.CommitAndPushAsync("arrives while tokyo is down");
        site.StartSecondary("tokyo", settings);

        await site.WaitForMirrorsAsync(repo);
        Assert.AreEqual("synced", await site.QuerySecondaryAsync<string>("tokyo", "SELECT state FROM projects WHERE project_id = @id", new { id }));
        Assert.AreEqual(0L, await site.QueryPrimaryAsync<long>("SELECT count(*) FROM dead_letters"));
    }

    [TestMethod]
    public async Task KillingGeoAdminMidReplayLosesNothingAndAppliesEachOnce()
    {
        const int count = 1000;
        await using var site = await GeoSite.StartAsync(["tokyo"], secondarySettings: Retries("none"));
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, _) =>
            await site.Hooks.AcceptedAsync(Hooks.Push("push", 10_000 + i, $"bulk/p{i}", "refs/heads/main", Zero, Sha())));
        await WaitForDeadLettersAsync(site, count);

        // Fix the cause for all of them: each repository now exists on the primary (copies of one template).
        var template = await site.CreateRepositoryAsync("bulk/template");
        await template.CommitAndPushAsync("template");
        for (var i = 0; i < count; i++)
        {
            template.CopyBareTo(Path.Combine(site.StorageRoot, "bulk", $"p{i}.git"));
        }

        await using (var admin = site.StartAdmin("dlq", "replay", "--secondary", "tokyo", "--output", "json"))
        {
            await GeoSite.WaitUntilAsync(async () => await site.QueryPrimaryAsync<long>("SELECT count(*) FROM dead_letter_actions") >= 50,
                TimeSpan.FromSeconds(60), () => "the replay never started:\n" + admin.Log());
            await admin.KillAsync();
        }

        var replayedBeforeKill = await site.QueryPrimaryAsync<long>("SELECT count(*) FROM dead_letters WHERE state = 'replayed'");
        Assert.IsTrue(replayedBeforeKill < count, "geo-admin finished before it was killed; the test proves nothing");

        var (code, _, stderr) = await site.AdminAsync("dlq", "replay", "--secondary", "tokyo");
        Assert.AreEqual(0, code, stderr);

        // Nothing lost, judged by the mirrors rather than by the secondary's own registry: every one of the
        // 1,000 mirrors ends with exactly the refs of the primary's repository at its path.
        var paths = Enumerable.Range(0, count).Select(i => $"bulk/p{i}").ToArray();
        var primary = RefsOf(paths, path => Path.Combine(site.StorageRoot, path + ".git"));
        var main = (await template.RefsAsync())["refs/heads/main"];
        Assert.IsTrue(primary.Values.All(refs => refs.GetValueOrDefault("refs/heads/main") == main), "a repository on the primary lacks the template's main");
        var differing = new HashSet<string>(paths, StringComparer.Ordinal);
        await GeoSite.WaitUntilAsync(async () =>
        {
            var mirrors = await Task.Run(() => RefsOf(differing, path => site.MirrorPath("tokyo", path)));
            differing.ExceptWith(mirrors.Where(m => GeoSite.SameRefs(primary[m.Key], m.Value)).Select(m => m.Key));
            return differing.Count == 0;
        }, TimeSpan.FromSeconds(300), () => $"{differing.Count} of {count} mirrors differ from the primary after the replay, e.g. "
            + string.Join(", ", differing.Order(StringComparer.Ordinal).Take(10)));

        await GeoSite.WaitUntilAsync(async () => await site.QuerySecondaryAsync<long>("tokyo", "SELECT count(*) FROM projects WHERE state = 'synced'") == count,
            TimeSpan.FromSeconds(60), () => "every mirror is complete but the registry does not say so");
        Assert.AreEqual((long)count, await site.QueryPrimaryAsync<long>("SELECT count(*) FROM dead_letters WHERE state = 'replayed'"));
        Assert.AreEqual((long)count, await site.QueryPrimaryAsync<long>("SELECT count(*) FROM dead_letters"), "the replay produced new failures");
        Assert.AreEqual(1L, await site.QuerySecondaryAsync<long>("tokyo", "SELECT max(sync_count) FROM projects"), "some event was applied twice");

        // Once more, all of them at the end: no mirror that matched was later undone.
        var final = RefsOf(paths, path => site.MirrorPath("tokyo", path));
        var undone = paths.Where(path => !GeoSite.SameRefs(primary[path], final[path])).ToList();
        Assert.IsEmpty(undone, "mirrors differ from the primary at the end: " + string.Join(", ", undone.Take(10)));
    }

    /// <summary>
    /// The refs (name → object id, as <c>git for-each-ref</c> lists them) of many repositories, read in process
    /// and in parallel; a repository that does not exist has none.
    /// </summary>
    private static Dictionary<string, IReadOnlyDictionary<string, string>> RefsOf(IEnumerable<string> paths, Func<string, string> gitDir)
    {
        var refs = new System.Collections.Concurrent.ConcurrentDictionary<string, IReadOnlyDictionary<string, string>>(StringComparer.Ordinal);
        Parallel.ForEach(paths, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, path =>
        {
            var dir = gitDir(path);
            if (!Directory.Exists(dir))
            {
                refs[path] = new Dictionary<string, string>();
                return;
            }

            using var repository = new LibGit2Sharp.Repository(dir);
            refs[path] = repository.Refs
                .Where(r => r.CanonicalName.StartsWith("refs/", StringComparison.Ordinal))
                .ToDictionary(r => r.CanonicalName, r => r.ResolveToDirectReference().TargetIdentifier, StringComparer.Ordinal);
        });
        return new Dictionary<string, IReadOnlyDictionary<string, string>>(refs, StringComparer.Ordinal);
    }

    [TestMethod]
    [DataRow(false, DisplayName = "on the database")]
    [DataRow(true, DisplayName = "through the admin API")]
    public async Task FiltersAndGroupsSelectExactlyWhatTheySay(bool throughApi)
    {
        await using var site = await GeoSite.StartAsync(["tokyo"], secondarySettings: Retries("none"));
        if (throughApi)
        {
            await site.UseAdminApiAsync();
        }

        for (var i = 0; i < 3; i++)
        {
            await site.Hooks.AcceptedAsync(Hooks.Push("push", 41, "alpha/one", "refs/heads/main", Zero, Sha()));
        }

        for (var i = 0; i < 2; i++)
        {
            await site.Hooks.AcceptedAsync(Hooks.Push("push", 42, "alpha/two", "refs/heads/main", Zero, Sha()));
        }

        await using (var bus = await site.ForgeryBusAsync())
        {
            foreach (var keyId in new[] { 501L, 502L })
            {
                await bus.Publish(new SshKeyCreated
                {
                    EventId = Guid.NewGuid(),
                    Sequence = 100 + keyId,
                    OccurredAt = DateTimeOffset.UtcNow,
                    KeyId = keyId,
                    Username = "mallory",
                    KeyType = "ssh-rsa",
                    KeyBlob = "AAAAC3NzaC1lZDI1NTE5AAAAIAZeD+GmfQ9mCiWKWQ5r3hI52QskNgxdUHcZdM5kDQk+",
                    Fingerprint = "SHA256:x",
                });
            }

            // A message no consumer takes ends in _skipped, and is listed too.
            var endpoint = await bus.GetSendEndpoint(new Uri($"exchange:{SecondaryTopology.Queue("tokyo")}?type=fanout"));
            await endpoint.Send(new NoSuchEvent("nobody consumes this"));
        }

        await WaitForDeadLettersAsync(site, 8);

        async Task<List<JsonElement>> ListAsync(params string[] args)
        {
            var (code, stdout, stderr) = await site.AdminAsync(["dlq", "list", "--output", "json", .. args]);
            Assert.AreEqual(0, code, stderr);
            return Json(stdout).EnumerateArray().ToList();
        }

        // One cause, one group: the five missing repositories fail alike, whatever their project.
        var groups = await ListAsync();
        CollectionAssert.AreEquivalent(new[] { 5, 2, 1 }, groups.Select(g => g.GetProperty("count").GetInt32()).ToArray());
        var missing = groups.Single(g => g.GetProperty("eventType").GetString() == "RepositoryChanged");
        CollectionAssert.AreEquivalent(new[] { "alpha/one", "alpha/two" }, missing.GetProperty("exampleProjects").EnumerateArray().Select(e => e.GetString()).ToArray());
        var keys = groups.Single(g => g.GetProperty("eventType").GetString() == "SshKeyCreated");
        Assert.AreEqual("skipped", groups.Single(g => g.GetProperty("count").GetInt32() == 1).GetProperty("reason").GetString());

        Assert.IsTrue((await ListAsync("--type", "SshKeyCreated", "--messages")).All(m => m.GetProperty("eventType").GetString() == "SshKeyCreated"));
        Assert.AreEqual(2, (await ListAsync("--type", "SshKeyCreated", "--messages")).Count);
        Assert.AreEqual(2, (await ListAsync("--exception", "InvalidSshKey", "--messages")).Count);
        Assert.AreEqual(2, (await ListAsync("--project", "alpha/two", "--messages")).Count);
        Assert.AreEqual(0, (await ListAsync("--since", "2099-01-01T00:00Z")).Count);
        Assert.AreEqual(3, (await ListAsync("--since", "1h")).Count);
        var alphaOne = (await ListAsync("--project", "alpha/one", "--messages")).Select(m => m.GetProperty("id").GetInt64()).ToArray();
        Assert.AreEqual(3, alphaOne.Length);

        var (dryCode, dryOut, dryErr) = await site.AdminAsync("dlq", "replay", "--group", missing.GetProperty("group").GetString()!, "--project", "alpha/one", "--dry-run", "--output", "json");
        Assert.AreEqual(0, dryCode, dryErr);
        CollectionAssert.AreEquivalent(alphaOne, Json(dryOut).GetProperty("wouldReplay").EnumerateArray().Select(e => e.GetInt64()).ToArray());
        Assert.AreEqual(0L, await site.QueryPrimaryAsync<long>("SELECT count(*) FROM dead_letter_actions"), "a dry run acted");

        var keyGroup = keys.GetProperty("group").GetString()!;
        Assert.AreEqual(0, (await site.AdminAsync("dlq", "delete", "--group", keyGroup)).ExitCode);
        Assert.AreEqual(2, (await ListAsync()).Count, "archived dead letters are still listed as failed");
        Assert.AreEqual(2, (await ListAsync("--state", "archived", "--messages")).Count);
        Assert.AreEqual(0, (await site.AdminAsync("dlq", "restore", "--group", keyGroup)).ExitCode);
        Assert.AreEqual(3, (await ListAsync()).Count);

        var (unbounded, _, reason) = await site.AdminAsync("dlq", "replay");
        Assert.AreEqual(2, unbounded);
        StringAssert.Contains(reason, "--all");
        Assert.AreEqual(3, (await site.AdminAsync("dlq", "show", "999999")).ExitCode);
        Assert.AreEqual(2, (await site.AdminAsync("dlq", "list", "--state", "bogus")).ExitCode);
        Assert.AreEqual(2, (await site.AdminAsync("dlq", "history", "--limit", "0")).ExitCode);
        Assert.AreEqual(site.AdminActor, await site.QueryPrimaryAsync<string>("SELECT DISTINCT actor FROM dead_letter_actions"), "every write is recorded with who acted");
    }
}

/// <summary>A message type no geo-secondary consumer handles.</summary>
public sealed record NoSuchEvent(string Text);
