using Dapper;
using Geo.Events.Testing;
using Npgsql;

namespace Geo.Events.IntegrationTests;

/// <summary>The outbox dispatcher: every committed event is published, and once, however late its commit comes.</summary>
[TestClass]
public sealed class OutboxDispatchTests
{
    /// <summary>
    /// A writer can take a sequence and commit after later sequences were committed and published: the storage watcher
    /// records its events in a transaction of its own, and so does a second geo-primary. A dispatcher that only read
    /// onwards from the last sequence it published would never send that event.
    /// </summary>
    [TestMethod]
    public async Task AnEventCommittedAfterLaterOnesWerePublishedIsPublishedOnceToo()
    {
        await using var site = await GeoSite.StartAsync(["lima"], startSecondaries: false,
            primarySettings: new Dictionary<string, string> { ["Primary:DispatchBatchSize"] = "4" });
        const string Queue = "geo.secondary.lima";
        var first = await site.Hooks.AcceptedAsync(Hooks.Key("key_create", 9_000, TestKeys.RandomEd25519()));

        // The late writer: a copy of the first event under a new id, its sequence taken now, its commit held back.
        await using var late = new NpgsqlConnection(TestServers.ConnectionString(site.PrimaryDatabase));
        await late.OpenAsync();
        await using var transaction = await late.BeginTransactionAsync();
        var lateSequence = await late.ExecuteScalarAsync<long>(
            """
            INSERT INTO event_log (event_id, event_type, project_id, body)
            SELECT gen_random_uuid(), event_type, project_id, body FROM event_log WHERE id = @first
            RETURNING id
            """,
            new { first }, transaction);

        var later = new List<long>();
        for (var i = 1; i <= 30; i++)
        {
            later.Add(await site.Hooks.AcceptedAsync(Hooks.Key("key_create", 9_000 + i, TestKeys.RandomEd25519())));
        }

        Assert.IsTrue(later.All(sequence => sequence > lateSequence), "the held-back row's sequence is not older than the hooks after it");
        await GeoSite.WaitUntilAsync(
            async () => (await site.QueueStatsAsync(Queue)).Messages >= 1 + later.Count,
            TimeSpan.FromSeconds(60), () => "the hooks after the held-back row were not published");

        await transaction.CommitAsync();
        await GeoSite.WaitUntilAsync(
            async () => await site.QueryPrimaryAsync<long>("SELECT count(*) FROM event_log WHERE published_at IS NULL") == 0,
            TimeSpan.FromSeconds(60), () => $"the event committed late (sequence {lateSequence}) was never published");
        await GeoSite.WaitUntilAsync(
            async () => (await site.QueueStatsAsync(Queue)).Messages >= 2 + later.Count,
            TimeSpan.FromSeconds(30), () => "the event committed late was marked published but did not reach the queue");

        // Each once, the late one included.
        var queued = await site.DrainSequencesAsync(Queue);
        CollectionAssert.AreEquivalent(new List<long>([first, lateSequence, .. later]), queued, $"queued: {string.Join(",", queued)}");
    }
}
