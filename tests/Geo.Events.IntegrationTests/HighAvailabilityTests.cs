using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Dapper;
using Geo.Events.Testing;
using Npgsql;

namespace Geo.Events.IntegrationTests;

/// <summary>
/// Several instances of each service. Two geo-primary processes share one database: both accept hooks, one leads
/// (publishes the outbox), and when it is SIGKILLed the other takes over with nothing lost and nothing out of order.
/// Two geo-secondary processes share one site (queue, database, mirror storage): each keeps its own authorized_keys
/// equal to the registry whichever of them applied a key, and a SIGKILL of one loses nothing.
/// </summary>
[TestClass]
public sealed partial class HighAvailabilityTests
{
    private static async Task<string?> RoleAsync(HttpClient http)
    {
        try
        {
            using var response = await http.GetAsync("/health/ready");
            var json = JsonNode.Parse(await response.Content.ReadAsStringAsync());
            return json?["role"]?.GetValue<string>();
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException)
        {
            return null;
        }
    }

    /// <summary>
    /// The short case kept in make test. Hooks go to both instances in turn; the leader is SIGKILLed after a third of
    /// them, and the rest go to the survivor. Every accepted event reaches the secondary's queue, first copies in
    /// sequence order (a duplicate of an event whose confirm the killed leader never recorded is allowed). Batches of one
    /// event: within a batch the dispatcher publishes concurrently, so only across batches, and across leaders, is the
    /// broker's order the outbox's.
    /// </summary>
    [TestMethod]
    public async Task WhenTheLeadingPrimaryIsKilledTheOtherPublishesEveryAcceptedEventInOrder()
    {
        await using var site = await GeoSite.StartAsync(["oslo"], startSecondaries: false,
            primarySettings: new Dictionary<string, string> { ["Primary:DispatchBatchSize"] = "1" });
        var secondUrl = await site.StartPrimaryAsync("b");
        using var second = new HttpClient { BaseAddress = secondUrl, Timeout = TimeSpan.FromSeconds(30) };
        HttpClient[] clients = [site.Http, second];
        Hooks[] hooks = [site.Hooks, new Hooks(second, GeoSite.Token)];

        string?[] roles = [];
        await GeoSite.WaitUntilAsync(async () =>
        {
            roles = await Task.WhenAll(clients.Select(RoleAsync));
            return roles.Count(r => r == "leader") == 1 && roles.Count(r => r == "standby") == 1;
        }, TimeSpan.FromSeconds(30), () => $"not exactly one leader and one standby: {string.Join(", ", roles)}");
        var leader = Array.IndexOf(roles, "leader");
        var survivor = 1 - leader;

        const int Total = 60;
        var accepted = new List<long>();
        for (var i = 0; i < Total; i++)
        {
            if (i == Total / 3)
            {
                await (leader == 0 ? site.KillPrimaryAsync() : site.KillPrimaryAsync("b"));
            }

            var target = i < Total / 3 ? hooks[i % 2] : hooks[survivor];
            accepted.Add(await target.AcceptedAsync(Hooks.Key("key_create", 5000 + i, TestKeys.RandomEd25519())));
        }

        await GeoSite.WaitUntilAsync(async () => await RoleAsync(clients[survivor]) == "leader",
            TimeSpan.FromSeconds(30), () => "the surviving geo-primary never took the lead");
        await GeoSite.WaitUntilAsync(async () => await site.QueryPrimaryAsync<long>("SELECT count(*) FROM event_log WHERE published_at IS NULL") == 0,
            TimeSpan.FromSeconds(60), () => "the outbox was never emptied after the leader was killed");

        var queued = await site.DrainSequencesAsync("geo.secondary.oslo");
        var firstCopies = queued.Distinct().ToList();
        CollectionAssert.AreEquivalent(accepted, firstCopies, $"accepted and queued events differ; queued: {string.Join(",", queued)}");
        CollectionAssert.AreEqual(accepted.Order().ToList(), firstCopies, $"events reached the queue out of sequence order: {string.Join(",", queued)}");
    }

    [GeneratedRegex(@"^command=""[^""]* key-(\d+)"",\S+ (\S+) (\S+)$")]
    private static partial Regex KeyLine();

    private static async Task<SortedSet<string>> FileKeysAsync(string path) =>
        File.Exists(path)
            ? new((await File.ReadAllLinesAsync(path)).Select(l => KeyLine().Match(l)).Where(m => m.Success).Select(m => $"{m.Groups[1].Value} {m.Groups[2].Value} {m.Groups[3].Value}"), StringComparer.Ordinal)
            : new(StringComparer.Ordinal);

    private static async Task<SortedSet<string>> RegistryKeysAsync(GeoSite site, string name)
    {
        await using var connection = new NpgsqlConnection(TestServers.ConnectionString(site.SecondaryDatabase(name)));
        var rows = await connection.QueryAsync<string>("SELECT key_id || ' ' || key_type || ' ' || key_blob FROM ssh_keys WHERE NOT destroyed");
        return new(rows, StringComparer.Ordinal);
    }

    private static Task WaitForFilesEqualToRegistryAsync(GeoSite site, string name, int expectedLive, params string[] files) =>
        GeoSite.WaitUntilAsync(async () =>
        {
            var registry = await RegistryKeysAsync(site, name);
            if (registry.Count != expectedLive)
            {
                return false;
            }

            foreach (var file in files)
            {
                if (!(await FileKeysAsync(file)).SetEquals(registry))
                {
                    return false;
                }
            }

            return true;
        }, TimeSpan.FromSeconds(60), () =>
        {
            var registry = RegistryKeysAsync(site, name).GetAwaiter().GetResult();
            return $"registry has {registry.Count} live keys (expected {expectedLive}); " + string.Join("; ", files.Select(f =>
            {
                var keys = FileKeysAsync(f).GetAwaiter().GetResult();
                return $"{f}: {keys.Count} keys, {keys.Except(registry).Count()} not in the registry, {registry.Except(keys).Count()} missing";
            }));
        });

    private static Dictionary<string, string> KeySettings(string file, SshServer sshd) => new()
    {
        ["Keys:AuthorizedKeysFile"] = file,
        ["Keys:ShellCommand"] = sshd.GitLabShell,
        ["Keys:SshUser"] = SshServer.User,
    };

    /// <summary>
    /// Both instances consume the one queue, so each applies about half the key events; both files must still hold every
    /// live key, and a key logs in through a real sshd that reads the second instance's file.
    /// </summary>
    [TestMethod]
    [TestCategory("HA")]
    public async Task EachInstanceOfASecondaryKeepsItsOwnAuthorizedKeysEqualToTheRegistry()
    {
        await using var sshd = await SshServer.CreateAsync();
        var firstFile = Path.Combine(sshd.Folder, "authorized_keys-first");
        await using var site = await GeoSite.StartAsync(["oslo"], secondarySettings: KeySettings(firstFile, sshd));
        site.StartSecondary("oslo", KeySettings(sshd.AuthorizedKeysFile, sshd), instance: "2");
        await site.WaitForSecondaryAsync("oslo.2");
        await sshd.StartAsync();

        const int Keys = 30;
        for (var i = 0; i < Keys; i++)
        {
            await site.Hooks.AcceptedAsync(Hooks.Key("key_create", 100 + i, TestKeys.RandomEd25519()));
        }

        for (var i = 0; i < Keys; i += 3)
        {
            await site.Hooks.AcceptedAsync(Hooks.Key("key_destroy", 100 + i, TestKeys.RandomEd25519()));
        }

        var folder = Path.Combine(site.Root, "keys");
        Directory.CreateDirectory(folder);
        var privateKey = Path.Combine(folder, "id_ed25519");
        await Shell.RunAsync("ssh-keygen", folder, ["-q", "-t", "ed25519", "-N", "", "-C", "jsmith@laptop", "-f", privateKey]);
        await site.Hooks.AcceptedAsync(Hooks.Key("key_create", 999, (await File.ReadAllTextAsync(privateKey + ".pub")).Trim()));

        await WaitForFilesEqualToRegistryAsync(site, "oslo", Keys - 10 + 1, firstFile, sshd.AuthorizedKeysFile);
        var (code, output) = await sshd.LoginAsync(privateKey);
        Assert.AreEqual(0, code, $"the key did not log in through the second instance's file: {output}\n{sshd.SafeLog()}");
        Assert.AreEqual("gitlab-shell key-999", output);
    }

    /// <summary>
    /// Pushes to three repositories and key events while one of two instances is SIGKILLed: the other finishes the work
    /// (the killed one's unacknowledged deliveries come back to the queue), mirrors equal the primary, no key is lost.
    /// Then the killed instance is started again and more keys are added: both files follow them.
    /// </summary>
    [TestMethod]
    [TestCategory("HA")]
    public async Task KillingOneOfTwoSecondaryInstancesMidStreamLosesNothing()
    {
        await using var sshd = await SshServer.CreateAsync();
        var firstFile = Path.Combine(sshd.Folder, "authorized_keys-first");
        await using var site = await GeoSite.StartAsync(["oslo"], secondarySettings: KeySettings(firstFile, sshd));
        site.StartSecondary("oslo", KeySettings(sshd.AuthorizedKeysFile, sshd), instance: "2");
        await site.WaitForSecondaryAsync("oslo.2");

        var repos = new List<(PrimaryRepository Repo, long Id, string Sha)>();
        for (var r = 0; r < 3; r++)
        {
            var (repo, sha) = await site.CreatePushedRepositoryAsync($"ha/project-{r}", 300 + r);
            repos.Add((repo, 300 + r, sha));
        }

        const int Rounds = 24;
        for (var i = 0; i < Rounds; i++)
        {
            if (i == Rounds / 2)
            {
                await site.KillSecondaryAsync("oslo");
            }

            var r = i % repos.Count;
            var (sha, _) = await site.PushWithHookAsync(repos[r].Repo, repos[r].Id, $"round {i}", repos[r].Sha);
            repos[r] = (repos[r].Repo, repos[r].Id, sha);
            await site.Hooks.AcceptedAsync(Hooks.Key("key_create", 700 + i, TestKeys.RandomEd25519()));
        }

        foreach (var (repo, _, _) in repos)
        {
            await site.WaitForMirrorsAsync(repo, "oslo");
        }

        await WaitForFilesEqualToRegistryAsync(site, "oslo", Rounds, sshd.AuthorizedKeysFile);

        // The killed instance comes back; from then on both files follow every change, whichever instance applies it.
        site.StartSecondary("oslo", KeySettings(firstFile, sshd));
        await site.WaitForSecondaryAsync("oslo");
        const int More = 8;
        for (var i = 0; i < More; i++)
        {
            await site.Hooks.AcceptedAsync(Hooks.Key("key_create", 800 + i, TestKeys.RandomEd25519()));
        }

        await WaitForFilesEqualToRegistryAsync(site, "oslo", Rounds + More, firstFile, sshd.AuthorizedKeysFile);
    }
}
