using System.Text.Json;
using System.Text.Json.Nodes;
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

    /// <summary>
    /// Events delivered late, early, twice and shuffled while the primary's state changes between them: a push
    /// of an old path after the project moved, a push of a new path before the rename that made it, a
    /// destroyed project's push after another project took its path, a key's late create after its destroy
    /// and after the same key came back under a new id. A user at the secondary sees the primary's state.
    /// With <paramref name="pathReused"/>, also a project destroyed and its path taken by a new project.
    /// </summary>
    [TestMethod]
    [DataRow(false, DisplayName = "rename and keys")]
    [DataRow(true, DisplayName = "rename, keys, and a path destroyed and re-created by another project")]
    public async Task EventsShuffledWhileThePrimaryChangesEndInThePrimarysState(bool pathReused)
    {
        await using var site = await GeoSite.StartAsync(["shuffled"], startSecondaries: false);
        var authorizedKeys = Path.Combine(site.Root, "authorized_keys");
        site.StartSecondary("shuffled", new Dictionary<string, string>
        {
            ["Keys:AuthorizedKeysFile"] = authorizedKeys,
            ["Keys:ShellCommand"] = GitLabShell,
            // A push naming a path the primary no longer has fails until the event that explains it arrives.
            ["Retry:Immediate"] = "200ms",
            ["Retry:Delays"] = "1s,2s,5s,10s,20s",
        });
        await site.WaitForSecondaryAsync("shuffled");
        await DetachFromEventExchangesAsync(site, "shuffled"); // from now on it receives only what this test sends

        var seed = Environment.TickCount;
        var random = new Random(seed);
        long sent = 0;
        async Task DeliverAsync(params long[] sequences)
        {
            var recorded = (await EventsAsync(site)).ToDictionary(e => e.Sequence);
            await using (var bus = await site.ForgeryBusAsync())
            {
                var endpoint = await bus.GetSendEndpoint(new Uri("exchange:" + SecondaryTopology.Queue("shuffled")));
                foreach (var sequence in sequences.OrderBy(_ => random.Next()))
                {
                    await endpoint.Send(recorded[sequence], recorded[sequence].GetType());
                    sent++;
                }
            }

            // Taken and acknowledged (applied, or sent on to a delay queue) before the primary changes again.
            await GeoSite.WaitUntilAsync(async () => await site.QueueStatsAsync(SecondaryTopology.Queue("shuffled")) is var q && q.Messages == 0 && q.Acknowledged >= sent,
                TimeSpan.FromSeconds(90), () => $"the secondary did not take what was sent (seed {seed})");
        }

        var primaryKeys = new Dictionary<long, string>(); // what the primary holds: key id → "type base64"
        async Task<long> AddKeyAsync(long id, string key)
        {
            primaryKeys[id] = key;
            return await site.Hooks.AcceptedAsync(new JsonObject { ["event_name"] = "key_create", ["id"] = id, ["username"] = $"user{id}", ["key"] = key });
        }

        async Task<long> DestroyKeyAsync(long id)
        {
            primaryKeys.Remove(id);
            return await site.Hooks.AcceptedAsync(new JsonObject { ["event_name"] = "key_destroy", ["id"] = id, ["username"] = $"user{id}" });
        }

        // 0. Two projects and three keys; one key is delivered at once.
        var a = await site.CreateRepositoryAsync("moving/a");
        var (_, pushA1) = await site.PushWithHookAsync(a, 1, "a one");
        var b = await site.CreateRepositoryAsync("moving/b");
        var (_, pushB3) = pathReused ? await site.PushWithHookAsync(b, 3, "b, project 3") : default;
        var (keyX, keyY, keyZ) = (TestKeys.RandomEd25519(), TestKeys.RandomEd25519(), TestKeys.RandomEd25519());
        var createX = await AddKeyAsync(10, keyX);
        var createY = await AddKeyAsync(11, keyY);
        await DeliverAsync(await AddKeyAsync(13, keyZ));

        // 1. A rename between two pushes. The push of the old path arrives when the primary has no such path
        // any more; the push after the rename arrives before the rename.
        var (_, pushA2) = await site.PushWithHookAsync(a, 1, "a two");
        a = await a.MoveAsync("moving/renamed");
        var rename = await site.Hooks.AcceptedAsync(Hooks.ProjectEvent("project_rename", 1, "moving/renamed", "moving/a"));
        var (_, pushRenamed) = await site.PushWithHookAsync(a, 1, "after the rename");
        await DeliverAsync(pushA1);
        await DeliverAsync(pushRenamed, pushA2);

        // 2. Project 3 destroyed, and project 4 created at its path. Project 4's push arrives first, then
        // project 3's old push, when the primary's moving/b is project 4's.
        // (Without pathReused, moving/b is project 4's from the start.)
        long[] destroyB3 = [];
        if (pathReused)
        {
            Directory.Delete(b.BarePath, recursive: true);
            Directory.Delete(b.WorkPath, recursive: true);
            destroyB3 = [await site.Hooks.AcceptedAsync(Hooks.ProjectEvent("project_destroy", 3, "moving/b"))];
            b = await site.CreateRepositoryAsync("moving/b");
        }

        await b.CommitAsync("b, project 4, first");
        var (_, pushB4) = await site.PushWithHookAsync(b, 4, "b, project 4");
        await DeliverAsync(pushB4);
        long[] latePushB3 = pathReused ? [pushB3] : [];
        await DeliverAsync(latePushB3);

        // 3. A key destroyed and added again (GitLab gives it a new id), another destroyed. The new id's create
        // arrives first, then the destroys, then both old creates, late.
        var destroyX = await DestroyKeyAsync(10);
        var createX2 = await AddKeyAsync(12, keyX);
        var destroyY = await DestroyKeyAsync(11);
        await DeliverAsync(createX2, destroyY);
        await DeliverAsync(destroyX);
        await DeliverAsync(createX, createY);

        // The rename and the destroy at last, then the old pushes once more.
        await DeliverAsync([rename, .. destroyB3]);
        await DeliverAsync([pushA1, pushA2, .. latePushB3]);
        await WaitForPrimaryStateAsync(site, "shuffled", [a, b], ["moving/a"], authorizedKeys, primaryKeys, seed);

        // 4. The primary moves on (a push, a force push); then every event ever recorded, twice, shuffled.
        await site.PushWithHookAsync(a, 1, "later");
        var before = await b.ShaAsync("main");
        await b.GitAsync("commit", "-q", "--amend", "-m", "b, project 4, rewritten");
        await b.GitAsync("push", "-q", "--force", "origin", "main");
        await site.Hooks.AcceptedAsync(Hooks.RepositoryUpdate(4, b.PathWithNamespace, ("refs/heads/main", before, await b.ShaAsync("main"))));
        var all = (await EventsAsync(site)).Select(e => e.Sequence).ToArray();
        await DeliverAsync([.. all, .. all]);
        await WaitForPrimaryStateAsync(site, "shuffled", [a, b], ["moving/a"], authorizedKeys, primaryKeys, seed);
    }

    private const string GitLabShell = "/opt/gitlab/embedded/service/gitlab-shell/bin/gitlab-shell";

    /// <summary>
    /// Waits until the secondary shows what a user of the primary sees: at each of the primary's paths a
    /// mirror with that repository's refs and nothing at <paramref name="gone"/>; no mirror stored but those
    /// the paths lead to (a destroyed project's is deleted); authorized_keys line for line the primary's keys.
    /// </summary>
    private static async Task WaitForPrimaryStateAsync(
        GeoSite site, string name, IReadOnlyList<PrimaryRepository> repos, string[] gone, string authorizedKeys, IReadOnlyDictionary<long, string> primaryKeys, int seed)
    {
        var expectedLines = primaryKeys
            .Select(k => $"command=\"{GitLabShell} key-{k.Key}\",no-port-forwarding,no-X11-forwarding,no-agent-forwarding,no-pty {k.Value}")
            .Order(StringComparer.Ordinal).ToList();
        var problems = new List<string>();
        await GeoSite.WaitUntilAsync(async () =>
        {
            problems.Clear();
            foreach (var repo in repos)
            {
                var mirror = site.MirrorPath(name, repo.PathWithNamespace);
                var expected = await repo.RefsAsync();
                var actual = await ReadRefsAsync(mirror);
                if (!GeoSite.SameRefs(expected, actual))
                {
                    problems.Add($"{repo.PathWithNamespace}: primary {Show(expected)}, mirror {Show(actual)}");
                }
            }

            problems.AddRange(gone.Where(path => new FileInfo(site.MirrorPath(name, path)) is var f && (f.Exists || Directory.Exists(f.FullName) || f.LinkTarget is not null)).Select(path => $"{path}: still at the secondary"));
            var linked = repos.Select(r => new DirectoryInfo(site.MirrorPath(name, r.PathWithNamespace)))
                .Where(d => d.LinkTarget is not null).Select(d => d.ResolveLinkTarget(returnFinalTarget: true)!.FullName).ToHashSet(StringComparer.Ordinal);
            var hashed = Path.Combine(site.MirrorRoot(name), "@hashed");
            var stored = Directory.Exists(hashed) ? Directory.EnumerateDirectories(hashed, "*.git", SearchOption.AllDirectories).ToList() : [];
            problems.AddRange(stored.Where(s => !linked.Contains(Path.GetFullPath(s))).Select(s => $"{Path.GetRelativePath(site.MirrorRoot(name), s)}: a mirror no path leads to"));

            var lines = File.Exists(authorizedKeys) ? (await File.ReadAllLinesAsync(authorizedKeys)).Order(StringComparer.Ordinal).ToList() : [];
            if (!lines.SequenceEqual(expectedLines, StringComparer.Ordinal))
            {
                problems.Add("authorized_keys:\n  " + string.Join("\n  ", lines) + "\nthe primary's keys:\n  " + string.Join("\n  ", expectedLines));
            }

            return problems.Count == 0;
        }, TimeSpan.FromSeconds(120), () => $"the secondary does not show the primary's state (seed {seed}):\n" + string.Join('\n', problems));
    }

    private static string Show(IReadOnlyDictionary<string, string> refs) =>
        refs.Count == 0 ? "(none)" : string.Join(", ", refs.OrderBy(r => r.Key, StringComparer.Ordinal).Select(r => $"{r.Key}={r.Value[..8]}"));

    /// <summary>
    /// Unbinds the secondary's queue from every exchange geo-primary publishes to, so the events recorded from
    /// now on reach it only when the test sends them.
    /// </summary>
    private static async Task DetachFromEventExchangesAsync(GeoSite site, string name)
    {
        var queue = SecondaryTopology.Queue(name);
        using var management = TestServers.Management();
        var bindings = JsonDocument.Parse(await management.GetStringAsync(
            $"exchanges/{Uri.EscapeDataString(site.VirtualHost)}/{Uri.EscapeDataString(queue)}/bindings/destination")).RootElement;
        var sources = bindings.EnumerateArray().Select(b => b.GetProperty("source").GetString()!).Where(s => s.Length > 0).Distinct().ToList();
        Assert.IsTrue(sources.Count >= GeoTopology.EventExchanges.Count, $"the queue was bound to only {sources.Count} exchanges");
        await using var connection = await TestServers.RabbitOptions(site.VirtualHost).ConnectionFactory("test").CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        foreach (var source in sources)
        {
            await channel.ExchangeUnbindAsync(destination: queue, source: source, routingKey: "");
        }
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
        await using var connection = new Npgsql.NpgsqlConnection(TestServers.ConnectionString(site.PrimaryDatabase));
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand("SELECT id, event_type, body::text FROM event_log ORDER BY id", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var events = new List<IGeoEvent>();
        while (await reader.ReadAsync())
        {
            var body = System.Text.Json.Nodes.JsonNode.Parse(reader.GetString(2))!.AsObject();
            body["Sequence"] = reader.GetInt64(0);
            events.Add((IGeoEvent)body.Deserialize(GeoTopology.EventType(reader.GetString(1))!)!);
        }

        return events;
    }
}
