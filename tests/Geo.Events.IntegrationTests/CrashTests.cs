using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Geo.Events.Core.Repositories;
using Geo.Events.Testing;
using static Geo.Events.Testing.PrimaryRepository;

namespace Geo.Events.IntegrationTests;

/// <summary>
/// geo-secondary SIGKILLed at random moments while it fetches, rewrites authorized_keys and copies files,
/// then restarted: nothing is lost, nothing half-written is ever visible, the registry agrees with the disk.
/// Rounds: GEO_CRASH_ROUNDS (3 in make test; more for a soak).
/// </summary>
[TestClass]
public sealed class CrashTests
{
    private const string Shell = "/opt/gitlab/embedded/service/gitlab-shell/bin/gitlab-shell";

    [TestMethod]
    public async Task KilledAtRandomMomentsUnderLoadItConvergesWithNothingPartialVisible()
    {
        var rounds = int.TryParse(Environment.GetEnvironmentVariable("GEO_CRASH_ROUNDS"), out var r) ? r : 3;
        await using var site = await GeoSite.StartAsync(["tokyo"], startSecondaries: false, register: true);
        var authorizedKeys = Path.Combine(site.Root, "authorized_keys");
        var settings = new Dictionary<string, string> { ["Keys:AuthorizedKeysFile"] = authorizedKeys, ["Retry:Delays"] = "1s" };
        site.StartSecondary("tokyo", settings);
        await site.WaitForSecondaryAsync("tokyo");

        var repos = new List<PrimaryRepository>();
        for (var i = 1; i <= 4; i++)
        {
            repos.Add(await site.CreateRepositoryAsync($"crash/r{i}"));
        }

        var files = new List<(string Path, string Sha)>();
        var keyIds = new List<long>();
        using var stop = new CancellationTokenSource();
        var accepted = 0;

        // The load: pushes, keys and files, each announced by its hook, for as long as the rounds last.
        var load = Task.Run(async () =>
        {
            var n = 0;
            while (!stop.IsCancellationRequested)
            {
                n++;
                var repo = repos[n % repos.Count];
                var sha = await repo.CommitAsync($"commit {n}");
                await repo.GitAsync("push", "-q", "-f", "origin", "main");
                await site.Hooks.AcceptedAsync(Hooks.Push("push", 1 + (n % repos.Count), repo.PathWithNamespace, "refs/heads/main", Zero, sha));
                await site.Hooks.AcceptedAsync(new JsonObject { ["event_name"] = "key_create", ["id"] = n, ["username"] = $"u{n}", ["key"] = TestKeys.RandomEd25519() });
                keyIds.Add(n);
                if (n % 3 == 0)
                {
                    await site.Hooks.AcceptedAsync(new JsonObject { ["event_name"] = "key_destroy", ["id"] = n - 1, ["username"] = $"u{n - 1}" });
                    keyIds.Remove(n - 1);
                }

                var path = $"crash/{n}.bin";
                var bytes = RandomNumberGenerator.GetBytes(200_000 + (n % 5) * 1_000_000);
                var full = Path.Combine(site.PrimaryFiles("upload"), path);
                Directory.CreateDirectory(Path.GetDirectoryName(full)!);
                await File.WriteAllBytesAsync(full, bytes);
                var fileSha = Convert.ToHexStringLower(SHA256.HashData(bytes));
                await site.Hooks.AcceptedAsync(new JsonObject { ["event_name"] = "upload_create", ["path"] = path, ["size"] = bytes.Length, ["sha256"] = fileSha });
                files.Add((path, fileSha));
                accepted += 4;
                await Task.Delay(50);
            }
        });

        for (var round = 0; round < rounds; round++)
        {
            await Task.Delay(Random.Shared.Next(500, 2500));
            await site.KillSecondaryAsync("tokyo");
            AssertNothingHalfWritten(site, authorizedKeys);
            site.StartSecondary("tokyo", settings);
            await site.WaitForSecondaryAsync("tokyo");
        }

        await stop.CancelAsync();
        await load;

        foreach (var repo in repos)
        {
            await site.WaitForMirrorsAsync(repo);
            await Testing.Shell.RunAsync("git", site.MirrorPath("tokyo", repo.PathWithNamespace), "fsck", "--strict");
        }

        foreach (var (path, sha) in files)
        {
            await GeoSite.WaitUntilAsync(
                async () => await site.QuerySecondaryAsync<string?>("tokyo", "SELECT min(state) FROM files WHERE path = @path", new { path }) == "present",
                TimeSpan.FromSeconds(90), () => $"{path} was not copied after the crashes");
            await using var copy = File.OpenRead(Path.Combine(site.SecondaryFiles("tokyo", "upload"), path));
            Assert.AreEqual(sha, Convert.ToHexStringLower(await SHA256.HashDataAsync(copy)), path);
        }

        var expectedKeys = keyIds.Order().Select(id => $"key-{id}\"").ToList();
        await GeoSite.WaitUntilAsync(async () =>
        {
            var lines = File.Exists(authorizedKeys) ? await File.ReadAllLinesAsync(authorizedKeys) : [];
            return lines.Length == expectedKeys.Count && expectedKeys.All(k => lines.Any(l => l.Contains(k, StringComparison.Ordinal)));
        }, TimeSpan.FromSeconds(60), () => "authorized_keys does not hold exactly the live keys");

        // The registry agrees with the disk: every synced project's readable path leads to its mirror, whose
        // refs checksum is the primary's; no download is left half-done.
        foreach (var repo in repos)
        {
            Assert.AreEqual(RefsChecksum.Compute(repo.BarePath), RefsChecksum.Compute(site.MirrorPath("tokyo", repo.PathWithNamespace)));
            Assert.AreEqual("synced", await site.QuerySecondaryAsync<string>("tokyo", "SELECT state FROM projects WHERE path_with_namespace = @p", new { p = repo.PathWithNamespace }));
        }

        Assert.AreEqual(0, Directory.GetFiles(site.SecondaryFiles("tokyo", "upload"), "*.geo-partial", SearchOption.AllDirectories).Length, "a partial download was left");
        Console.WriteLine($"crash: {rounds} SIGKILLs, {accepted} events accepted, {files.Count} files, {keyIds.Count} live keys, all applied");
    }

    /// <summary>Right after a kill: authorized_keys is a complete file, and no readable mirror path leads to a half-made mirror.</summary>
    private static void AssertNothingHalfWritten(GeoSite site, string authorizedKeys)
    {
        if (File.Exists(authorizedKeys))
        {
            foreach (var line in File.ReadAllLines(authorizedKeys))
            {
                StringAssert.StartsWith(line, $"command=\"{Shell} key-", "a line of authorized_keys was cut");
                StringAssert.Matches(line, new System.Text.RegularExpressions.Regex(@" ssh-ed25519 [A-Za-z0-9+/=]{68}\z"), "a line of authorized_keys was cut");
            }
        }

        var root = site.MirrorRoot("tokyo");
        if (Directory.Exists(Path.Combine(root, "crash")))
        {
            foreach (var link in Directory.EnumerateFileSystemEntries(Path.Combine(root, "crash"), "*.git"))
            {
                var target = new DirectoryInfo(link).LinkTarget;
                Assert.IsNotNull(target, $"{link} is not a link to a mirror");
                StringAssert.Contains(target, "@hashed/", link);
                Assert.IsTrue(Directory.Exists(Path.Combine(link, "objects")), $"{link} leads to an incomplete mirror");
            }
        }
    }
}
