using System.Text.Json;
using Geo.Events.Contracts;
using Geo.Events.Core.Messaging;
using Geo.Events.Testing;
using RabbitMQ.Client;
using static Geo.Events.Testing.PrimaryRepository;

namespace Geo.Events.IntegrationTests;

/// <summary>
/// Duplicates and reordering: every event of a scenario delivered twice, shuffled, ends in the same state as
/// the same events delivered once and in order (at-least-once delivery may do both).
/// </summary>
[TestClass]
public sealed class ReorderingTests
{
    [TestMethod]
    public async Task EveryEventTwiceInShuffledOrderEndsWhereTheInOrderRunEnds()
    {
        await using var site = await GeoSite.StartAsync(["inorder", "shuffled"], startSecondaries: false);
        site.StartSecondary("inorder");
        await site.WaitForSecondaryAsync("inorder");

        // The scenario: branches, tags, force pushes and deletions over three projects, a rename, a destroy,
        // keys created and destroyed.
        var repos = new List<PrimaryRepository>();
        for (var i = 1; i <= 3; i++)
        {
            var (repo, first) = await site.CreatePushedRepositoryAsync($"shuffle/p{i}", i, "one");
            await repo.GitAsync("checkout", "-q", "-b", "topic");
            var topic = await repo.CommitAsync("topic");
            await repo.GitAsync("push", "-q", "origin", "topic");
            await site.Hooks.AcceptedAsync(Hooks.Push("push", i, repo.PathWithNamespace, "refs/heads/topic", Zero, topic));
            await repo.GitAsync("tag", "-a", "v1", "-m", "v1");
            await repo.GitAsync("push", "-q", "origin", "v1");
            await site.Hooks.AcceptedAsync(Hooks.Push("tag_push", i, repo.PathWithNamespace, "refs/tags/v1", Zero, await repo.ShaAsync("v1")));
            await repo.GitAsync("checkout", "-q", "main");
            await repo.GitAsync("commit", "-q", "--amend", "-m", "one, rewritten");
            await repo.GitAsync("push", "-q", "--force", "origin", "main");
            await site.Hooks.AcceptedAsync(Hooks.RepositoryUpdate(i, repo.PathWithNamespace, ("refs/heads/main", first, await repo.ShaAsync("main"))));
            await repo.GitAsync("push", "-q", "origin", "--delete", "topic");
            await site.Hooks.AcceptedAsync(Hooks.Push("push", i, repo.PathWithNamespace, "refs/heads/topic", topic, Zero));
            repos.Add(repo);
        }

        repos[0] = await repos[0].MoveAsync("shuffle/renamed");
        await site.Hooks.AcceptedAsync(Hooks.ProjectEvent("project_rename", 1, "shuffle/renamed", "shuffle/p1"));
        await site.PushWithHookAsync(repos[0], 1, "after rename");
        Directory.Delete(repos[2].BarePath, recursive: true);
        await site.Hooks.AcceptedAsync(Hooks.ProjectEvent("project_destroy", 3, "shuffle/p3"));
        for (var k = 1; k <= 6; k++)
        {
            await site.Hooks.AcceptedAsync(new System.Text.Json.Nodes.JsonObject { ["event_name"] = "key_create", ["id"] = k, ["username"] = $"user{k}", ["key"] = TestKeys.RandomEd25519() });
        }

        foreach (var k in new[] { 2, 5 })
        {
            await site.Hooks.AcceptedAsync(new System.Text.Json.Nodes.JsonObject { ["event_name"] = "key_destroy", ["id"] = k, ["username"] = $"user{k}" });
        }

        var total = await site.EventCountAsync();
        await GeoSite.WaitUntilAsync(async () => await StateAsync(site, "inorder") is var s && s.Contains("3:0:shuffle/p3:destroyed", StringComparison.Ordinal)
                                                  && s.Contains("keys 1,3,4,6", StringComparison.Ordinal) && await MirrorsMatchAsync(site, "inorder", repos),
            TimeSpan.FromSeconds(90), () => "the in-order secondary did not converge");

        // The same events for the other secondary: what its queue collected in order is thrown away, and
        // every event is sent to it twice, shuffled.
        await using (var connection = await TestServers.RabbitOptions(site.VirtualHost).ConnectionFactory("test").CreateConnectionAsync())
        await using (var channel = await connection.CreateChannelAsync())
        {
            await channel.QueuePurgeAsync(SecondaryTopology.Queue("shuffled"));
        }

        var events = await EventsAsync(site);
        Assert.AreEqual(total, events.Count);
        var seed = Environment.TickCount;
        var random = new Random(seed);
        var shuffled = events.Concat(events).OrderBy(_ => random.Next()).ToList();
        await using (var bus = await site.ForgeryBusAsync())
        {
            var endpoint = await bus.GetSendEndpoint(new Uri("exchange:" + SecondaryTopology.Queue("shuffled")));
            foreach (var evt in shuffled)
            {
                await endpoint.Send(evt, evt.GetType());
            }
        }

        site.StartSecondary("shuffled");
        var expected = await StateAsync(site, "inorder");
        await GeoSite.WaitUntilAsync(async () => await StateAsync(site, "shuffled") == expected && await MirrorsMatchAsync(site, "shuffled", repos),
            TimeSpan.FromSeconds(90), () => $"shuffled (seed {seed}) never matched the in-order run:\n{expected}");
        Assert.AreEqual(Links(site, "inorder"), Links(site, "shuffled"));
        Assert.IsFalse(Path.Exists(site.MirrorPath("shuffled", "shuffle/p1")), "the rename was undone by an older push");
        Assert.IsFalse(Path.Exists(site.MirrorPath("shuffled", "shuffle/p3")), "the destroyed project came back");
    }

    /// <summary>A secondary's registry as one comparable string: projects (id, kind, path, state) and live keys.</summary>
    private static async Task<string> StateAsync(GeoSite site, string name)
    {
        try
        {
            var projects = await site.QuerySecondaryAsync<string?>(name,
                "SELECT string_agg(project_id || ':' || kind || ':' || path_with_namespace || ':' || state, ' ' ORDER BY project_id, kind) FROM projects");
            var keys = await site.QuerySecondaryAsync<string?>(name,
                "SELECT string_agg(key_id::text || '=' || fingerprint, ',' ORDER BY key_id) FROM ssh_keys WHERE NOT destroyed");
            var ids = await site.QuerySecondaryAsync<string?>(name, "SELECT string_agg(key_id::text, ',' ORDER BY key_id) FROM ssh_keys WHERE NOT destroyed");
            return $"{projects}\nkeys {ids}\n{keys}";
        }
        catch (Npgsql.NpgsqlException)
        {
            return ""; // not migrated yet
        }
    }

    private static async Task<bool> MirrorsMatchAsync(GeoSite site, string name, IReadOnlyList<PrimaryRepository> repos)
    {
        foreach (var repo in repos.Where(r => Directory.Exists(r.BarePath)))
        {
            if (!GeoSite.SameRefs(await repo.RefsAsync(), await ReadRefsAsync(site.MirrorPath(name, repo.PathWithNamespace))))
            {
                return false;
            }
        }

        return true;
    }

    private static string Links(GeoSite site, string name) => string.Join(' ',
        Directory.EnumerateDirectories(site.MirrorRoot(name), "*.git", SearchOption.AllDirectories)
            .Select(d => Path.GetRelativePath(site.MirrorRoot(name), d))
            .Where(d => !d.StartsWith('@') && !d.StartsWith('.'))
            .Order(StringComparer.Ordinal));

    /// <summary>Every recorded event as its contract, with its sequence, the way the outbox publishes it.</summary>
    private static async Task<List<IGeoEvent>> EventsAsync(GeoSite site)
    {
        var types = GeoTopology.EventExchanges.Keys.ToDictionary(t => t.Name);
        await using var connection = new Npgsql.NpgsqlConnection(TestServers.ConnectionString(site.PrimaryDatabase));
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand("SELECT id, event_type, body::text FROM event_log ORDER BY id", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var events = new List<IGeoEvent>();
        while (await reader.ReadAsync())
        {
            var body = System.Text.Json.Nodes.JsonNode.Parse(reader.GetString(2))!.AsObject();
            body["Sequence"] = reader.GetInt64(0);
            events.Add((IGeoEvent)body.Deserialize(types[reader.GetString(1)])!);
        }

        return events;
    }
}
