using Geo.Events.Contracts;
using Geo.Events.Core.Keys;
using Geo.Events.Testing;
using static Geo.Events.IntegrationTests.KeyEvents;

namespace Geo.Events.IntegrationTests;

/// <summary>
/// Key events that reach a secondary together are applied in batches (one transaction, one authorized_keys rewrite),
/// and yet each event succeeds or fails alone: a bad key goes to the error queue with its own reason, its neighbours
/// are applied, the newest sequence of a key wins inside a batch, and a crash in the middle loses nothing.
/// </summary>
[TestClass]
public sealed class KeyBatchTests
{
    private static SshPublicKey[] RandomKeys(int count) => [.. Enumerable.Range(0, count).Select(_ => SshPublicKey.Parse(TestKeys.RandomEd25519()))];

    /// <summary>
    /// A secondary that has declared its queue and is then stopped: events published now wait in its queue, and reach it
    /// all at once when it starts again (with the settings returned), so that they are applied in a few batches.
    /// </summary>
    private static async Task<(GeoSite Site, string File, Dictionary<string, string> Settings)> StoppedSecondaryAsync()
    {
        var site = await GeoSite.StartAsync(["tokyo"], startSecondaries: false);
        var file = Path.Combine(site.Root, "authorized_keys");
        var settings = new Dictionary<string, string> { ["Keys:AuthorizedKeysFile"] = file, ["Retry:Immediate"] = "50ms", ["Retry:Delays"] = "1s" };
        site.StartSecondary("tokyo", settings);
        await site.WaitForSecondaryAsync("tokyo");
        await site.KillSecondaryAsync("tokyo");
        return (site, file, settings);
    }

    private static async Task<double> MetricAsync(GeoSite site, string name)
    {
        using var http = new HttpClient { BaseAddress = site.SecondaryUrl("tokyo") };
        return ObservabilityTests.Metric(await http.GetStringAsync("/metrics"), name) ?? throw new AssertFailedException($"geo-secondary does not report {name}");
    }

    private static Task<string[]> LinesAsync(string file) => File.Exists(file) ? File.ReadAllLinesAsync(file) : Task.FromResult(Array.Empty<string>());

    [TestMethod]
    public async Task ABadKeyInABatchFailsAloneWithItsReasonAndEveryOtherKeyIsApplied()
    {
        var (site, file, settings) = await StoppedSecondaryAsync();
        await using var _ = site;
        // A key the database refuses (a real PostgreSQL error, raised by a trigger of this test), whichever batch carries it.
        await using (var connection = new Npgsql.NpgsqlConnection(TestServers.ConnectionString(site.SecondaryDatabase("tokyo"))))
        {
            await connection.OpenAsync();
            await using var command = new Npgsql.NpgsqlCommand(
            """
            CREATE FUNCTION refuse_key_777() RETURNS trigger LANGUAGE plpgsql AS
            $$ BEGIN IF NEW.key_id = 777 THEN RAISE EXCEPTION 'key 777 is refused by this test'; END IF; RETURN NEW; END $$;
            CREATE TRIGGER refuse_key_777 BEFORE INSERT OR UPDATE ON ssh_keys FOR EACH ROW EXECUTE FUNCTION refuse_key_777();
            """, connection);
            await command.ExecuteNonQueryAsync();
        }

        const int good = 200;
        var keys = RandomKeys(good + 1);
        await using (var bus = await site.ForgeryBusAsync())
        {
            for (var i = 0; i < good; i++)
            {
                await bus.Publish(Created(10_000 + i, 10_000 + i, keys[i]));
                if (i == good / 3)
                {
                    // Refused by the key parser on the secondary: a body that is not the type it declares.
                    await bus.Publish(Created(776, 1, keys[good]) with { KeyType = "ssh-rsa" });
                }

                if (i == good / 2)
                {
                    await bus.Publish(Created(777, 2, keys[good]));
                }
            }
        }

        site.StartSecondary("tokyo", settings);
        await GeoSite.WaitUntilAsync(async () => (await LinesAsync(file)).Length == good,
            TimeSpan.FromSeconds(120), () => "not every good key reached authorized_keys");
        await GeoSite.WaitUntilAsync(async () => await site.QueryPrimaryAsync<long>("SELECT count(*) FROM dead_letters") >= 2,
            TimeSpan.FromSeconds(120), () => "the two bad keys did not both reach the error queue");

        CollectionAssert.AreEquivalent(Enumerable.Range(0, good).Select(i => AuthorizedKeysLine(10_000 + i, keys[i])).ToArray(), await LinesAsync(file));
        Assert.AreEqual((long)good, await site.QuerySecondaryAsync<long>("tokyo", "SELECT count(*) FROM ssh_keys WHERE NOT destroyed AND key_id >= 10000"));
        Assert.AreEqual(0L, await site.QuerySecondaryAsync<long>("tokyo", "SELECT count(*) FROM ssh_keys WHERE key_id IN (776, 777)"));
        // Each bad key alone, with its own reason; no neighbour of theirs.
        Assert.AreEqual(2L, await site.QueryPrimaryAsync<long>("SELECT count(*) FROM dead_letters"));
        Assert.AreEqual(1L, await site.QueryPrimaryAsync<long>(
            "SELECT count(*) FROM dead_letters WHERE key_id = 776 AND exception_type LIKE '%InvalidSshKeyException' AND exception_message LIKE '%the key was refused%'"));
        Assert.AreEqual(1L, await site.QueryPrimaryAsync<long>(
            "SELECT count(*) FROM dead_letters WHERE key_id = 777 AND exception_type LIKE '%PostgresException' AND exception_message LIKE '%key 777 is refused by this test%'"));
        // They were applied in batches: far fewer transactions than events.
        var batches = await MetricAsync(site, "geo_key_batches_total");
        Assert.IsTrue(batches < good / 2, $"{good} key events took {batches} transactions");
    }

    [TestMethod]
    public async Task TheNewestSequenceOfAKeyWinsInsideABatchInEitherOrder()
    {
        var (site, file, settings) = await StoppedSecondaryAsync();
        await using var _ = site;
        // Twenty keys of each kind, so that whatever order the consumers pick them up in, both orders occur.
        const int pairs = 20;
        var keys = RandomKeys(100 + (3 * pairs));
        await using (var bus = await site.ForgeryBusAsync())
        {
            for (var i = 0; i < 100; i++)
            {
                await bus.Publish(Created(20_000 + i, 1, keys[i]));
                if (i < pairs)
                {
                    await bus.Publish(Created(300 + i, 5, keys[100 + i])); // created, then destroyed: destroyed
                    await bus.Publish(Destroyed(300 + i, 6));
                    await bus.Publish(Destroyed(400 + i, 6)); // destroyed, then an older create: destroyed
                    await bus.Publish(Created(400 + i, 5, keys[100 + pairs + i]));
                    await bus.Publish(Destroyed(500 + i, 5)); // an older destroy, then created: live
                    await bus.Publish(Created(500 + i, 6, keys[100 + (2 * pairs) + i]));
                }
            }
        }

        site.StartSecondary("tokyo", settings);
        await GeoSite.WaitUntilAsync(async () => await site.QuerySecondaryAsync<long>("tokyo", "SELECT count(*) FROM ssh_keys") == 100 + (3 * pairs)
                && await site.QuerySecondaryAsync<long>("tokyo", "SELECT count(*) FROM ssh_keys WHERE sequence = 6") == 3 * pairs
                && (await LinesAsync(file)).Length >= 100 + pairs,
            TimeSpan.FromSeconds(120), () => "the events were not all applied");

        var lines = await LinesAsync(file);
        CollectionAssert.AreEquivalent(
            Enumerable.Range(0, 100).Select(i => AuthorizedKeysLine(20_000 + i, keys[i])).Concat(Enumerable.Range(0, pairs).Select(i => AuthorizedKeysLine(500 + i, keys[100 + (2 * pairs) + i]))).ToArray(),
            lines);
        Assert.AreEqual((long)pairs, await site.QuerySecondaryAsync<long>("tokyo", "SELECT count(*) FROM ssh_keys WHERE key_id BETWEEN 300 AND 399 AND destroyed AND sequence = 6"), "create then destroy left a key live");
        Assert.AreEqual((long)pairs, await site.QuerySecondaryAsync<long>("tokyo", "SELECT count(*) FROM ssh_keys WHERE key_id BETWEEN 400 AND 499 AND destroyed AND sequence = 6"), "destroy then an older create left a key live");
        Assert.AreEqual((long)pairs, await site.QuerySecondaryAsync<long>("tokyo", "SELECT count(*) FROM ssh_keys WHERE key_id BETWEEN 500 AND 599 AND NOT destroyed AND sequence = 6"), "a newer create after a destroy was lost");
        Assert.AreEqual(0L, await site.QueryPrimaryAsync<long>("SELECT count(*) FROM dead_letters"));
        Assert.IsTrue(await MetricAsync(site, "geo_key_batches_total") < (100 + (6 * pairs)) / 2, "the events were not applied in batches");
    }

    [TestMethod]
    public async Task AKillInTheMiddleOfABurstLosesNoKey()
    {
        var (site, file, settings) = await StoppedSecondaryAsync();
        await using var _ = site;
        const int count = 3000;
        var keys = RandomKeys(count);
        await using (var bus = await site.ForgeryBusAsync())
        {
            await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 16 },
                async (i, _) => await bus.Publish(Created(30_000 + i, 1, keys[i])));
        }

        site.StartSecondary("tokyo", settings);
        // Killed (SIGKILL) once the first keys are in the registry: batches were being gathered and applied.
        await GeoSite.WaitUntilAsync(async () => await site.QuerySecondaryAsync<long>("tokyo", "SELECT count(*) FROM ssh_keys") > 0,
            TimeSpan.FromSeconds(120), () => "no key was applied");
        await site.KillSecondaryAsync("tokyo");
        var beforeRestart = await site.QuerySecondaryAsync<long>("tokyo", "SELECT count(*) FROM ssh_keys");

        site.StartSecondary("tokyo", settings);
        await GeoSite.WaitUntilAsync(async () => (await LinesAsync(file)).Length == count,
            TimeSpan.FromSeconds(180), () => $"authorized_keys holds {LinesAsync(file).Result.Length} of {count} keys after the restart ({beforeRestart} were in the registry at the kill)");
        CollectionAssert.AreEquivalent(Enumerable.Range(0, count).Select(i => AuthorizedKeysLine(30_000 + i, keys[i])).ToArray(), await LinesAsync(file));
        Assert.AreEqual(0L, await site.QueryPrimaryAsync<long>("SELECT count(*) FROM dead_letters"));
        Console.WriteLine($"{beforeRestart} of {count} keys were in the registry when the secondary was killed");
    }
}
