using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Geo.Events.Contracts.Api;
using Geo.Events.Testing;
using Npgsql;

namespace Geo.Events.IntegrationTests;

/// <summary>
/// Group commit at ingest (Primary:IngestBatchSize, Primary:IngestBatchWindow): hooks that arrive together share one
/// transaction, and each still gets its own answer: its own sequence, its duplicate flag, its own 503.
/// </summary>
[TestClass]
public sealed class GroupCommitTests
{
    /// <summary>Long enough that hooks posted at once are committed as one batch.</summary>
    private static readonly Dictionary<string, string> Batching = new() { ["Primary:IngestBatchWindow"] = "00:00:00.5" };

    private static JsonObject KeyCreate(long id) => new()
    {
        ["event_name"] = "key_create",
        ["id"] = id,
        ["username"] = "batch",
        ["key"] = TestKeys.RandomEd25519(),
    };

    private static async Task<(HttpStatusCode Status, HookRecorded? Answer, string Body)> PostAsync(GeoSite site, JsonNode payload, string? idempotencyKey = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/hooks/system") { Content = JsonContent.Create(payload) };
        request.Headers.Add("X-Gitlab-Token", GeoSite.Token);
        request.Headers.Add("X-Gitlab-Event", "System Hook");
        request.Headers.Add("X-Gitlab-Event-UUID", Guid.NewGuid().ToString());
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        using var response = await site.Http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, response.StatusCode == HttpStatusCode.Accepted ? JsonSerializer.Deserialize<HookRecorded>(body, JsonSerializerOptions.Web) : null, body);
    }

    /// <summary>Runs SQL as the test servers' user.</summary>
    private static async Task SqlAsync(string database, string sql)
    {
        await using var connection = new NpgsqlConnection(TestServers.ConnectionString(database));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    [TestMethod]
    public async Task ConcurrentHooksEachGetTheirOwnSequenceAndArePublishedOnce()
    {
        await using var site = await GeoSite.StartAsync(["tokyo"], startSecondaries: false, primarySettings: Batching);
        const int hooks = 40;
        var answers = await Task.WhenAll(Enumerable.Range(0, hooks).Select(i => PostAsync(site, KeyCreate(7_000 + i))));

        foreach (var (status, _, body) in answers)
        {
            Assert.AreEqual(HttpStatusCode.Accepted, status, body);
        }

        var sequences = answers.Select(a => a.Answer!.Id).ToHashSet();
        Assert.HasCount(hooks, sequences, "two hooks were answered with the same sequence");
        Assert.HasCount(hooks, answers.Select(a => a.Answer!.EventId).ToHashSet(), "two hooks were answered with the same event id");
        Assert.IsTrue(answers.All(a => !a.Answer!.Duplicate), "a new delivery was answered as a duplicate");
        // Each answer names its own hook's row: the key id it carried is in the row of the sequence it was given.
        for (var i = 0; i < hooks; i++)
        {
            var keyId = await site.QueryPrimaryAsync<long>("SELECT (body->>'KeyId')::bigint FROM event_log WHERE id = @id AND event_id = @eventId",
                new { id = answers[i].Answer!.Id, eventId = answers[i].Answer!.EventId });
            Assert.AreEqual(7_000L + i, keyId, $"hook {i} was answered with another hook's sequence");
        }

        // Published once each: the secondary's queue (no consumer) holds exactly one message per hook.
        await GeoSite.WaitUntilAsync(
            async () => await site.QueryPrimaryAsync<long>("SELECT count(*) FROM event_log WHERE published_at IS NULL") == 0,
            TimeSpan.FromSeconds(60), () => "not every event was published");
        await GeoSite.WaitUntilAsync(
            async () => (await site.QueueStatsAsync("geo.secondary.tokyo")).Messages >= hooks,
            TimeSpan.FromSeconds(30), () => "the secondary's queue did not receive every event");
        Assert.AreEqual((long)hooks, await site.EventCountAsync());
        Assert.AreEqual((long)hooks, (await site.QueueStatsAsync("geo.secondary.tokyo")).Messages, "an event was published more than once");
    }

    [TestMethod]
    public async Task ConcurrentRepeatsOfOneDeliveryInOneBatchAreOneEvent()
    {
        await using var site = await GeoSite.StartAsync(["tokyo"], startSecondaries: false, primarySettings: Batching);
        const int repeats = 8;
        var payload = KeyCreate(8_000);
        var others = Enumerable.Range(1, 4).Select(i => PostAsync(site, KeyCreate(8_000 + i)));
        var answers = await Task.WhenAll(Enumerable.Range(0, repeats).Select(_ => PostAsync(site, payload, idempotencyKey: "one-delivery")).Concat(others));

        foreach (var (status, _, body) in answers)
        {
            Assert.AreEqual(HttpStatusCode.Accepted, status, body);
        }

        var same = answers.Take(repeats).Select(a => a.Answer!).ToList();
        Assert.HasCount(1, same.Select(a => (a.Id, a.EventId)).Distinct(), "repeats of one delivery got different sequences");
        Assert.AreEqual(1, same.Count(a => !a.Duplicate), "exactly one repeat is the original, every other one a duplicate");
        Assert.AreEqual(5L, await site.EventCountAsync(), "the repeated delivery is one event beside the four others");
        Assert.AreEqual(1L, await site.QueryPrimaryAsync<long>("SELECT count(*) FROM event_log WHERE delivery_id = 'one-delivery'"));

        // And once it is committed, the same delivery again is still that event.
        var again = await PostAsync(site, payload, idempotencyKey: "one-delivery");
        Assert.AreEqual(HttpStatusCode.Accepted, again.Status, again.Body);
        Assert.AreEqual(same[0].Id, again.Answer!.Id);
        Assert.IsTrue(again.Answer.Duplicate);
    }

    [TestMethod]
    public async Task ARowPostgreSqlRefusesFailsAloneAndItsNeighboursAreRecorded()
    {
        await using var site = await GeoSite.StartAsync(["tokyo"], startSecondaries: false, primarySettings: Batching);
        // A real refusal by PostgreSQL, for one row only: a trigger that raises for key 666.
        await SqlAsync(site.PrimaryDatabase, """
            CREATE FUNCTION refuse_key_666() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.body->>'KeyId' = '666' THEN RAISE EXCEPTION 'key 666 is refused'; END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER refuse_key_666 BEFORE INSERT ON event_log FOR EACH ROW EXECUTE FUNCTION refuse_key_666();
            """);

        var ids = new long[] { 601, 602, 603, 666, 604, 605, 606 };
        var answers = await Task.WhenAll(ids.Select(id => PostAsync(site, KeyCreate(id))));

        for (var i = 0; i < ids.Length; i++)
        {
            var (status, answer, body) = answers[i];
            if (ids[i] == 666)
            {
                Assert.AreEqual(HttpStatusCode.ServiceUnavailable, status, body);
                StringAssert.Contains(body, "could not record the event");
                continue;
            }

            Assert.AreEqual(HttpStatusCode.Accepted, status, $"key {ids[i]}, a neighbour of the refused row: {body}");
            Assert.AreEqual(ids[i], await site.QueryPrimaryAsync<long>("SELECT (body->>'KeyId')::bigint FROM event_log WHERE id = @id", new { id = answer!.Id }));
        }

        Assert.AreEqual(6L, await site.EventCountAsync(), "every neighbour is recorded once, the refused row not at all");
        Assert.AreEqual(0L, await site.QueryPrimaryAsync<long>("SELECT count(*) FROM event_log WHERE body->>'KeyId' = '666'"));
        var log = await File.ReadAllTextAsync(Path.Combine(site.Root, "logs", "geo-primary.log"));
        StringAssert.Contains(log, "recording them one at a time", "the hooks were not committed as one batch, so the test proved nothing");
    }

    [TestMethod]
    public async Task TheDatabaseGoingAwayMidBatchAnswers503ToEveryHookAndRecordsNoneOfThem()
    {
        await using var site = await GeoSite.StartAsync(["tokyo"], startSecondaries: false, primarySettings: Batching);
        // The batch is held inside PostgreSQL, after all five rows are inserted and before they commit (a trigger sleeps
        // once it sees all five), while the database goes away.
        await SqlAsync(site.PrimaryDatabase, """
            CREATE FUNCTION hold_all_five() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF (SELECT count(*) FROM event_log WHERE (body->>'KeyId')::bigint BETWEEN 901 AND 905) = 5 THEN PERFORM pg_sleep(30); END IF;
                RETURN NULL;
            END $$;
            CREATE TRIGGER hold_all_five AFTER INSERT ON event_log FOR EACH ROW EXECUTE FUNCTION hold_all_five();
            """);

        var ids = new long[] { 901, 902, 903, 904, 905 };
        var posting = Task.WhenAll(ids.Select(id => PostAsync(site, KeyCreate(id))));
        try
        {
            await GeoSite.WaitUntilAsync(
                async () => await site.QueryPrimaryAsync<long>(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event = 'PgSleep'") > 0,
                TimeSpan.FromSeconds(30), () => "the batch was never held");
            await SqlAsync("postgres", $"ALTER DATABASE \"{site.PrimaryDatabase}\" WITH ALLOW_CONNECTIONS false");
            await SqlAsync("postgres", $"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{site.PrimaryDatabase}'");

            foreach (var (status, _, body) in await posting)
            {
                Assert.AreEqual(HttpStatusCode.ServiceUnavailable, status, body);
                StringAssert.Contains(body, "could not record the event in PostgreSQL");
            }
        }
        finally
        {
            await SqlAsync("postgres", $"ALTER DATABASE \"{site.PrimaryDatabase}\" WITH ALLOW_CONNECTIONS true");
        }

        Assert.AreEqual(0L, await site.EventCountAsync(), "a hook answered 503 was recorded");
    }
}
