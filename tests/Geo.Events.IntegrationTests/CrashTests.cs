using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Dapper;
using Geo.Events.Core.Repositories;
using Geo.Events.Testing;
using Npgsql;
using static Geo.Events.Testing.PrimaryRepository;

namespace Geo.Events.IntegrationTests;

/// <summary>
/// geo-secondary SIGKILLed at chosen and random moments while it clones, fetches, rewrites a large
/// authorized_keys and copies files, then restarted. After every kill, before the restart, what a user could
/// read must be whole: every readable mirror passes git fsck and has refs the primary once had; authorized_keys
/// is, line for line, a rewrite of the registry; every copied file has its primary's SHA-256. At the end all
/// of it equals the primary. Rounds: GEO_CRASH_ROUNDS (3 in make test, 25 in make soak); GEO_CRASH_SEED replays
/// a run's choices (kill delays, targets and the load's sequence of operations).
/// </summary>
[TestClass]
public sealed class CrashTests
{
    private const string Shell = "/opt/gitlab/embedded/service/gitlab-shell/bin/gitlab-shell";
    private const string Options = "no-port-forwarding,no-X11-forwarding,no-agent-forwarding,no-pty";
    private const int PreloadedKeys = 20_000; // a 3 MB authorized_keys: each rewrite takes long enough to be killed in
    private const long PreloadedIds = 5_000_000;
    private static readonly string[] FileKinds = ["upload", "lfs_object", "avatar"];

    [TestMethod]
    public async Task KilledAtChosenMomentsUnderLoadItConvergesWithNothingPartialVisible()
    {
        var rounds = int.TryParse(Environment.GetEnvironmentVariable("GEO_CRASH_ROUNDS"), out var r) ? r : 3;
        var seed = int.TryParse(Environment.GetEnvironmentVariable("GEO_CRASH_SEED"), out var s) ? s : Random.Shared.Next();
        Console.WriteLine($"crash: seed {seed}, {rounds} rounds (GEO_CRASH_SEED={seed} GEO_CRASH_ROUNDS={rounds} replays the choices)");
        var random = new Random(seed);
        var model = new Model(new Random(random.Next()));

        await using var site = await GeoSite.StartAsync(["tokyo"], startSecondaries: false, register: true);
        var authorizedKeys = Path.Combine(site.Root, "authorized_keys");
        var settings = new Dictionary<string, string> { ["Keys:AuthorizedKeysFile"] = authorizedKeys, ["Retry:Delays"] = "1s" };
        site.StartSecondary("tokyo", settings);
        await site.WaitForSecondaryAsync("tokyo");
        await PreloadKeysAsync(site, model);

        using var stop = new CancellationTokenSource();
        var load = Task.Run(() => model.RunAsync(site, stop.Token));

        var kills = new List<Kill>();
        for (var round = 0; round < rounds; round++)
        {
            var delay = random.Next(300, 1500);
            var target = (Target)(round % 3);
            var before = WorkInProgress(site); // what earlier kills left behind does not count for this one
            await Task.Delay(delay);
            var redelivered = await RedeliveredAsync(site);
            var aimed = await AimAsync(site, authorizedKeys, target, before);
            await site.KillSecondaryAsync("tokyo");
            if (load.IsFaulted)
            {
                await load; // the load's own failure, not a crash finding
            }

            var left = WorkInProgress(site).Except(before).ToList();
            Console.WriteLine($"kill {round + 1}: after {delay} ms, aimed at {target}, interrupted: {(left.Count == 0 ? "nothing on disk" : string.Join(", ", left.Select(Path.GetFileName)))}");
            await model.Pause.WaitAsync();
            try
            {
                await AssertNothingHalfVisibleAsync(site, authorizedKeys, model, $"after kill {round + 1} (seed {seed})");
            }
            finally
            {
                model.Pause.Release();
            }

            site.StartSecondary("tokyo", settings);
            await site.WaitForSecondaryAsync("tokyo");

            // What the dead consumer held, delivered and not acknowledged, the broker delivers again, flagged.
            var kill = new Kill(round + 1, delay, target, aimed, await RedeliveredAfterRestartAsync(site) - redelivered,
                CloneTemps: left.Count(p => p.EndsWith(".git", StringComparison.Ordinal)),
                RewriteTemps: left.Count(p => p.EndsWith(".tmp", StringComparison.Ordinal)),
                PartialDownloads: left.Count(p => p.EndsWith(".geo-partial", StringComparison.Ordinal)));
            kills.Add(kill);
            Console.WriteLine(kill);
        }

        await stop.CancelAsync();
        await load;
        Console.WriteLine($"crash: load made {model.Describe()}");

        // Some kills must have landed in the middle of work, or the rounds proved nothing.
        Assert.IsTrue(kills.Any(k => k.MidWork), $"no kill landed mid-work (seed {seed}):\n{string.Join('\n', kills)}");
        if (rounds >= 3)
        {
            Assert.IsTrue(kills.Any(k => k.RewriteTemps > 0 || k.CloneTemps > 0 || k.PartialDownloads > 0),
                $"no kill left an interrupted rewrite, clone or download behind (seed {seed}):\n{string.Join('\n', kills)}");
        }

        await AssertConvergedAsync(site, authorizedKeys, model, seed);
        Console.WriteLine($"crash: {rounds} SIGKILLs ({kills.Count(k => k.MidWork)} mid-work), {model.Describe()}, all applied");
    }

    private enum Target
    {
        Rewrite,
        Clone,
        Timed,
    }

    private sealed record Kill(int Round, int DelayMs, Target Target, bool Aimed, long Unacked, int CloneTemps, int RewriteTemps, int PartialDownloads)
    {
        /// <summary>Events delivered and not acknowledged, or a rewrite, clone or download left interrupted.</summary>
        public bool MidWork => Unacked > 0 || CloneTemps > 0 || RewriteTemps > 0 || PartialDownloads > 0;

        public override string ToString() =>
            $"kill {Round}: after {DelayMs} ms, aimed at {Target}{(Aimed ? "" : " (not seen in 10 s: killed anyway)")}; in flight: {Unacked} events delivered and not acked "
            + $"(redelivered after the restart, management API), {CloneTemps} clone(s), {RewriteTemps} authorized_keys rewrite(s), {PartialDownloads} download(s)";
    }

    /// <summary>
    /// Interrupted work as it shows on disk: clones being built under the mirror root's .tmp/, authorized_keys
    /// rewrites (its temp file beside it), downloads (.geo-partial files).
    /// </summary>
    private static HashSet<string> WorkInProgress(GeoSite site)
    {
        var found = new HashSet<string>(StringComparer.Ordinal);
        var temp = Path.Combine(site.MirrorRoot("tokyo"), ".tmp");
        if (Directory.Exists(temp))
        {
            found.UnionWith(Directory.GetDirectories(temp).Where(d => !Path.GetFileName(d).StartsWith("deleted-", StringComparison.Ordinal)));
        }

        found.UnionWith(Directory.GetFiles(site.Root, ".authorized_keys.*.tmp"));
        foreach (var kind in FileKinds)
        {
            if (Directory.Exists(site.SecondaryFiles("tokyo", kind)))
            {
                found.UnionWith(Directory.GetFiles(site.SecondaryFiles("tokyo", kind), "*.geo-partial", SearchOption.AllDirectories));
            }
        }

        return found;
    }

    /// <summary>Waits (up to 10 s, polling every millisecond) for the kind of work the round aims at to be under way.</summary>
    private static async Task<bool> AimAsync(GeoSite site, string authorizedKeys, Target target, HashSet<string> before)
    {
        if (target == Target.Timed)
        {
            return true;
        }

        var length = new FileInfo(authorizedKeys) is { Exists: true } f ? f.Length : -1;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            var now = WorkInProgress(site).Except(before).ToList();
            if (target == Target.Rewrite)
            {
                // A temp file beside it (the atomic writer), or the file itself changing size (a writer in place).
                var size = new FileInfo(authorizedKeys) is { Exists: true } g ? g.Length : -1;
                if (now.Any(p => p.EndsWith(".tmp", StringComparison.Ordinal)) || (size != length && length >= 0))
                {
                    return true;
                }

                length = size;
            }
            else if (now.Any(p => p.EndsWith(".git", StringComparison.Ordinal)))
            {
                return true;
            }

            await Task.Delay(1);
        }

        return false;
    }

    /// <summary>The queue's count of redelivered deliveries (management API; its figures are up to 0.5 s old).</summary>
    private static async Task<long> RedeliveredAsync(GeoSite site)
    {
        using var client = TestServers.Management();
        using var response = await client.GetAsync($"queues/{Uri.EscapeDataString(site.VirtualHost)}/{Uri.EscapeDataString("geo.secondary.tokyo")}");
        var json = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        return json.TryGetProperty("message_stats", out var stats) && stats.TryGetProperty("redeliver", out var r) ? r.GetInt64() : 0;
    }

    /// <summary>The redelivered count once it has settled after a restart (unchanged over a second).</summary>
    private static async Task<long> RedeliveredAfterRestartAsync(GeoSite site)
    {
        var last = await RedeliveredAsync(site);
        for (var i = 0; i < 5; i++)
        {
            await Task.Delay(1000);
            var now = await RedeliveredAsync(site);
            if (now == last)
            {
                break;
            }

            last = now;
        }

        return last;
    }

    /// <summary>Keys already in the registry (COPY, as a site with many users has): every rewrite writes them all.</summary>
    private static async Task PreloadKeysAsync(GeoSite site, Model model)
    {
        await using var connection = new NpgsqlConnection(TestServers.ConnectionString(site.SecondaryDatabase("tokyo")));
        await connection.OpenAsync();
        await using var import = await connection.BeginBinaryImportAsync(
            "COPY ssh_keys (key_id, username, key_type, key_blob, fingerprint, sequence, destroyed) FROM STDIN (FORMAT BINARY)");
        for (var i = 0; i < PreloadedKeys; i++)
        {
            var key = Core.Keys.SshPublicKey.Parse(TestKeys.RandomEd25519());
            await import.StartRowAsync();
            await import.WriteAsync(PreloadedIds + i, NpgsqlTypes.NpgsqlDbType.Bigint);
            await import.WriteAsync("preloaded", NpgsqlTypes.NpgsqlDbType.Text);
            await import.WriteAsync(key.Type, NpgsqlTypes.NpgsqlDbType.Text);
            await import.WriteAsync(key.Base64, NpgsqlTypes.NpgsqlDbType.Text);
            await import.WriteAsync(key.Fingerprint, NpgsqlTypes.NpgsqlDbType.Text);
            await import.WriteAsync(0L, NpgsqlTypes.NpgsqlDbType.Bigint);
            await import.WriteAsync(false, NpgsqlTypes.NpgsqlDbType.Boolean);
            model.Keys[PreloadedIds + i] = key.Base64;
        }

        await import.CompleteAsync();
    }

    /// <summary>
    /// Right after a kill, with the secondary dead: every readable mirror is whole (git fsck) and has refs the
    /// primary once had, under a path the project once had; authorized_keys is a complete rewrite of the
    /// registry; every copied file is its primary's content.
    /// </summary>
    private static async Task AssertNothingHalfVisibleAsync(GeoSite site, string authorizedKeys, Model model, string when)
    {
        foreach (var (link, id) in ReadableMirrors(site, model))
        {
            await Testing.Shell.RunAsync("git", link, "fsck", "--no-progress", "--no-dangling");
            var refs = Canonical(await ReadRefsAsync(link));
            lock (model.Gate)
            {
                Assert.IsTrue(model.States[id].Contains(refs), $"{when}: {link} has refs the primary never had:\n{refs}");
                Assert.IsTrue(model.Paths[id].Contains(Path.GetRelativePath(site.MirrorRoot("tokyo"), link)[..^4]), $"{when}: {link} is a path project {id} never had");
            }
        }

        await AssertAuthorizedKeysIsARewriteAsync(site, authorizedKeys, model, when);

        foreach (var kind in FileKinds)
        {
            var root = site.SecondaryFiles("tokyo", kind);
            if (!Directory.Exists(root))
            {
                continue;
            }

            foreach (var file in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Where(f => !Path.GetFileName(f).Contains(".geo-partial", StringComparison.Ordinal)))
            {
                var path = Path.GetRelativePath(root, file);
                string? expected;
                lock (model.Gate)
                {
                    expected = model.Files.GetValueOrDefault((kind, path)).Sha;
                }

                Assert.IsNotNull(expected, $"{when}: {kind}/{path} is a file the primary never had");
                Assert.AreEqual(expected, FileTests.Sha256(file), $"{when}: {kind}/{path} is visible with other content than the primary's");
            }
        }
    }

    /// <summary>
    /// Each line is exactly the line the writer builds for a key we created (options, type, blob), in key order,
    /// the file ends with a newline, and it is a whole rewrite: every registry change older than the file by more
    /// than 2 s is in it (a file cut at a line boundary misses the last keys, the preloaded ones).
    /// </summary>
    private static async Task AssertAuthorizedKeysIsARewriteAsync(GeoSite site, string authorizedKeys, Model model, string when)
    {
        if (!File.Exists(authorizedKeys))
        {
            return;
        }

        var text = await File.ReadAllTextAsync(authorizedKeys);
        var written = File.GetLastWriteTimeUtc(authorizedKeys);
        Assert.IsTrue(text.Length == 0 || text.EndsWith('\n'), $"{when}: authorized_keys ends in the middle of a line");
        var ids = new List<long>();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var id = long.Parse(line.Split(' ')[1].Split('"')[0]["key-".Length..], System.Globalization.CultureInfo.InvariantCulture);
            string blob;
            lock (model.Gate)
            {
                Assert.IsTrue(model.Keys.TryGetValue(id, out blob!), $"{when}: authorized_keys has key {id}, which was never created");
            }

            Assert.AreEqual(Line(id, blob), line, $"{when}: authorized_keys' line for key {id} is not the line the writer builds");
            ids.Add(id);
        }

        CollectionAssert.AreEqual(ids.Order().Distinct().ToList(), ids, $"{when}: authorized_keys is not one rewrite in key order");

        await using var connection = new NpgsqlConnection(TestServers.ConnectionString(site.SecondaryDatabase("tokyo")));
        var older = (await connection.QueryAsync<(long Id, bool Destroyed)>(
            "SELECT key_id, destroyed FROM ssh_keys WHERE updated_at < @before", new { before = written.AddSeconds(-2) })).ToList();
        var inFile = ids.ToHashSet();
        var missing = older.Where(k => !k.Destroyed && !inFile.Contains(k.Id)).Select(k => k.Id).ToList();
        var kept = older.Where(k => k.Destroyed && inFile.Contains(k.Id)).Select(k => k.Id).ToList();
        Assert.AreEqual(0, missing.Count, $"{when}: authorized_keys ({ids.Count} lines) misses {missing.Count} keys the registry had 2 s before it was written, e.g. {string.Join(", ", missing.Take(5))}");
        Assert.AreEqual(0, kept.Count, $"{when}: authorized_keys keeps keys destroyed 2 s before it was written: {string.Join(", ", kept.Take(5))}");
    }

    private static string Line(long id, string blob) => $"command=\"{Shell} key-{id}\",{Options} ssh-ed25519 {blob}";

    /// <summary>Every readable mirror: a <c>&lt;path&gt;.git</c> link under the root, which must lead into @hashed/ to an existing mirror of a known project.</summary>
    private static List<(string Link, long ProjectId)> ReadableMirrors(GeoSite site, Model model)
    {
        var root = site.MirrorRoot("tokyo");
        var found = new List<(string, long)>();
        if (!Directory.Exists(root))
        {
            return found;
        }

        var folders = new Stack<string>([root]);
        while (folders.TryPop(out var folder))
        {
            foreach (var entry in new DirectoryInfo(folder).EnumerateFileSystemInfos())
            {
                if (folder == root && entry.Name is "@hashed" or ".tmp" or "@trash")
                {
                    continue;
                }

                if (entry.LinkTarget is not null && !entry.Name.EndsWith(".git", StringComparison.Ordinal))
                {
                    continue; // a link being made (.<name>.git.<guid>.tmp, renamed over <name>.git when done): no git path reads it
                }

                if (entry.LinkTarget is { } linkTarget)
                {
                    var target = linkTarget;
                    StringAssert.Contains(target, "@hashed/", $"{entry.FullName} leads outside @hashed");
                    Assert.IsTrue(Directory.Exists(entry.FullName), $"{entry.FullName} is a link to a missing mirror");
                    var hash = Path.GetFileName(target)[..^4];
                    lock (model.Gate)
                    {
                        Assert.IsTrue(model.ByHash.TryGetValue(hash, out var id), $"{entry.FullName} leads to the mirror of no project we made");
                        found.Add((entry.FullName, id));
                    }
                }
                else if (entry is DirectoryInfo directory)
                {
                    Assert.IsFalse(directory.Name.EndsWith(".git", StringComparison.Ordinal), $"{directory.FullName} is a mirror outside @hashed, not a link");
                    folders.Push(directory.FullName);
                }
            }
        }

        return found;
    }

    private static string Canonical(IReadOnlyDictionary<string, string> refs) =>
        string.Join('\n', refs.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key} {p.Value}"));

    /// <summary>After the last restart: every mirror, key and file equals the primary's, and nothing is left half-done.</summary>
    private static async Task AssertConvergedAsync(GeoSite site, string authorizedKeys, Model model, int seed)
    {
        foreach (var project in model.Live)
        {
            await site.WaitForMirrorsAsync(project.Repo, "tokyo");
            var mirror = site.MirrorPath("tokyo", project.Repo.PathWithNamespace);
            await Testing.Shell.RunAsync("git", mirror, "fsck", "--no-progress", "--strict");
            Assert.AreEqual(RefsChecksum.Compute(project.Repo.BarePath), RefsChecksum.Compute(mirror));
            Assert.AreEqual("synced", await site.QuerySecondaryAsync<string>("tokyo", "SELECT state FROM projects WHERE project_id = @id AND kind = 0", new { id = project.Id }));
        }

        var livePaths = model.Live.Select(p => p.Repo.PathWithNamespace).ToHashSet();
        await GeoSite.WaitUntilAsync(
            () => Task.FromResult(ReadableMirrors(site, model).All(m => livePaths.Contains(Path.GetRelativePath(site.MirrorRoot("tokyo"), m.Link)[..^4]))),
            TimeSpan.FromSeconds(90), () => $"a destroyed or renamed-away project is still readable (seed {seed}): "
                + string.Join(", ", ReadableMirrors(site, model).Select(m => m.Link)));
        foreach (var id in model.Destroyed)
        {
            await GeoSite.WaitUntilAsync(() => Task.FromResult(!Directory.Exists(DataPath(site, id))), TimeSpan.FromSeconds(90),
                () => $"the mirror of destroyed project {id} is still on disk (seed {seed})");
        }

        foreach (var ((kind, path), (sha, live)) in model.Files)
        {
            var copy = Path.Combine(site.SecondaryFiles("tokyo", kind), path);
            if (live)
            {
                await FileTests.WaitForStateAsync(site, "tokyo", path, "present", TimeSpan.FromSeconds(90));
                Assert.AreEqual(sha, FileTests.Sha256(copy), $"{kind}/{path}");
            }
            else
            {
                await GeoSite.WaitUntilAsync(() => Task.FromResult(!File.Exists(copy)), TimeSpan.FromSeconds(90), () => $"destroyed {kind}/{path} is still on disk (seed {seed})");
            }
        }

        var expected = model.Keys.Where(k => !model.DestroyedKeys.Contains(k.Key)).OrderBy(k => k.Key).Select(k => Line(k.Key, k.Value)).ToList();
        await GeoSite.WaitUntilAsync(async () => File.Exists(authorizedKeys) && (await File.ReadAllLinesAsync(authorizedKeys)).SequenceEqual(expected),
            TimeSpan.FromSeconds(90), () => $"authorized_keys is not, line for line, the {expected.Count} live keys (seed {seed})");
        await using var connection = new NpgsqlConnection(TestServers.ConnectionString(site.SecondaryDatabase("tokyo")));
        var registry = (await connection.QueryAsync<(long Id, string Type, string Blob)>("SELECT key_id, key_type, key_blob FROM ssh_keys WHERE NOT destroyed ORDER BY key_id"))
            .Select(k => $"command=\"{Shell} key-{k.Id}\",{Options} {k.Type} {k.Blob}").ToList();
        CollectionAssert.AreEqual(expected, registry, "the registry's live keys are not the keys created and not destroyed");

        foreach (var kind in FileKinds)
        {
            Assert.AreEqual(0, Directory.GetFiles(site.SecondaryFiles("tokyo", kind), "*.geo-partial", SearchOption.AllDirectories).Length, $"a partial {kind} download was left");
        }

        // The rewrites the kills interrupted left their temp files (whole copies of the file); the next rewrite removes them.
        Assert.AreEqual(0, Directory.GetFiles(site.Root, ".authorized_keys.*.tmp").Length, "an interrupted rewrite's temp file was left beside authorized_keys");
    }

    private static string DataPath(GeoSite site, long id)
    {
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(id.ToString(System.Globalization.CultureInfo.InvariantCulture))));
        return Path.Combine(site.MirrorRoot("tokyo"), "@hashed", hash[..2], hash[2..4], hash + ".git");
    }

    private sealed record Project(long Id, PrimaryRepository Repo)
    {
        public PrimaryRepository Repo { get; set; } = Repo;

        public List<string> Branches { get; } = [];

        public List<string> Tags { get; } = [];
    }

    /// <summary>
    /// The primary and what it went through: each project's every refs state and path, every key and file made.
    /// The load changes the primary the way GitLab would (git pushes, renames as moves, destroys as one rename
    /// out of the storage, files written then announced), one change at a time, and posts the hook for each.
    /// </summary>
    private sealed class Model(Random random)
    {
        private long _nextProject = 1;
        private long _nextKey = 1;
        private int _n;
        private int _pushes;
        private int _renames;
        private int _tagChanges;
        private int _forced;
        private int _deletions;

        /// <summary>Guards the collections, which the checks read while the load writes them.</summary>
        public object Gate { get; } = new();

        /// <summary>
        /// Held by the load for each change (git, then the record of the state, then the hook) and by the checks
        /// after a kill: a check never sees a state the primary has that the record lacks yet.
        /// </summary>
        public SemaphoreSlim Pause { get; } = new(1);

        public Dictionary<long, HashSet<string>> States { get; } = [];

        public Dictionary<long, HashSet<string>> Paths { get; } = [];

        public Dictionary<string, long> ByHash { get; } = [];

        public List<Project> Live { get; } = [];

        public List<long> Destroyed { get; } = [];

        public Dictionary<long, string> Keys { get; } = [];

        public HashSet<long> DestroyedKeys { get; } = [];

        public Dictionary<(string Kind, string Path), (string Sha, bool Live)> Files { get; } = [];

        public string Describe()
        {
            lock (Gate)
            {
                return $"{_nextProject - 1} projects ({Live.Count} live, {Destroyed.Count} destroyed, {_renames} renames), {_pushes} pushes "
                    + $"({_forced} forced, {_deletions} branch deletions, {_tagChanges} tag pushes and deletions), {_nextKey - 1} keys created "
                    + $"({DestroyedKeys.Count} destroyed), {Files.Count} files ({Files.Values.Count(f => !f.Live)} destroyed)";
            }
        }

        public async Task RunAsync(GeoSite site, CancellationToken stop)
        {
            for (var i = 0; i < 3; i++)
            {
                await NewProjectAsync(site);
            }

            while (!stop.IsCancellationRequested)
            {
                _n++;
                var roll = random.Next(100);
                var project = Live[random.Next(Live.Count)];
                await Pause.WaitAsync(CancellationToken.None);
                try
                {
                    switch (roll)
                    {
                        case < 25:
                            await CommitAsync(site, project, "main");
                            break;
                        case < 32:
                            await BranchAsync(site, project);
                            break;
                        case < 37:
                            await DeleteBranchAsync(site, project);
                            break;
                        case < 43:
                            await ForcePushAsync(site, project);
                            break;
                        case < 50:
                            await TagAsync(site, project);
                            break;
                        case < 54:
                            await DeleteTagAsync(site, project);
                            break;
                        case < 60:
                            await NewProjectAsync(site);
                            break;
                        case < 64:
                            await RenameAsync(site, project);
                            break;
                        case < 67 when Live.Count > 3:
                            await DestroyAsync(site, project);
                            break;
                        case < 80:
                            await KeyAsync(site);
                            break;
                        default:
                            await FileAsync(site);
                            break;
                    }
                }
                finally
                {
                    Pause.Release();
                }

                await Task.Delay(random.Next(5, 40), CancellationToken.None);
            }
        }

        private async Task RecordAsync(Project project)
        {
            var refs = Canonical(await project.Repo.RefsAsync());
            lock (Gate)
            {
                States[project.Id].Add(refs);
                Paths[project.Id].Add(project.Repo.PathWithNamespace);
            }
        }

        private async Task NewProjectAsync(GeoSite site)
        {
            long id;
            lock (Gate)
            {
                id = _nextProject++;
                States[id] = [];
                Paths[id] = [];
                var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(id.ToString(System.Globalization.CultureInfo.InvariantCulture))));
                ByHash[hash] = id;
            }

            var repo = await site.CreateRepositoryAsync($"crash/p{id}");
            var project = new Project(id, repo);
            var blob = new byte[2_000_000 + random.Next(3_000_000)]; // incompressible: a clone takes long enough to be killed in
            random.NextBytes(blob);
            await File.WriteAllBytesAsync(Path.Combine(repo.WorkPath, "data.bin"), blob);
            var sha = await repo.CommitAndPushAsync($"first of {id}");
            await RecordAsync(project);
            lock (Gate)
            {
                Live.Add(project);
            }

            await site.Hooks.AcceptedAsync(Hooks.ProjectEvent("project_create", id, repo.PathWithNamespace));
            await site.Hooks.AcceptedAsync(Hooks.Push("push", id, repo.PathWithNamespace, "refs/heads/main", Zero, sha));
            _pushes++;
        }

        private async Task CommitAsync(GeoSite site, Project project, string branch)
        {
            var repo = project.Repo;
            await repo.GitAsync("checkout", "-q", branch);
            var before = (await repo.GitAsync("rev-parse", "HEAD")).Trim();
            var sha = await repo.CommitAsync($"commit {_n}");
            await repo.GitAsync("push", "-q", "origin", branch);
            await RecordAsync(project);
            await site.Hooks.AcceptedAsync(Hooks.Push("push", project.Id, repo.PathWithNamespace, $"refs/heads/{branch}", before, sha));
            _pushes++;
        }

        private async Task BranchAsync(GeoSite site, Project project)
        {
            var branch = $"b{_n}";
            await project.Repo.GitAsync("checkout", "-q", "-b", branch, "main");
            var sha = await project.Repo.CommitAsync($"on {branch}");
            await project.Repo.GitAsync("push", "-q", "origin", branch);
            project.Branches.Add(branch);
            await RecordAsync(project);
            await site.Hooks.AcceptedAsync(Hooks.Push("push", project.Id, project.Repo.PathWithNamespace, $"refs/heads/{branch}", Zero, sha));
            _pushes++;
        }

        private async Task DeleteBranchAsync(GeoSite site, Project project)
        {
            if (project.Branches.Count == 0)
            {
                return;
            }

            var branch = project.Branches[random.Next(project.Branches.Count)];
            var before = await project.Repo.ShaAsync($"refs/heads/{branch}");
            await project.Repo.GitAsync("checkout", "-q", "main");
            await project.Repo.GitAsync("push", "-q", "origin", $":refs/heads/{branch}");
            await project.Repo.GitAsync("branch", "-q", "-D", branch);
            project.Branches.Remove(branch);
            await RecordAsync(project);
            await site.Hooks.AcceptedAsync(Hooks.Push("push", project.Id, project.Repo.PathWithNamespace, $"refs/heads/{branch}", before, Zero));
            _pushes++;
            _deletions++;
        }

        private async Task ForcePushAsync(GeoSite site, Project project)
        {
            var repo = project.Repo;
            await repo.GitAsync("checkout", "-q", "main");
            var before = (await repo.GitAsync("rev-parse", "HEAD")).Trim();
            if ((await repo.GitAsync("rev-list", "--count", "HEAD")).Trim() == "1")
            {
                return;
            }

            await repo.GitAsync("reset", "-q", "--hard", "HEAD~1");
            var sha = await repo.CommitAsync($"rewritten {_n}");
            await repo.GitAsync("push", "-q", "-f", "origin", "main");
            await RecordAsync(project);
            await site.Hooks.AcceptedAsync(Hooks.Push("push", project.Id, repo.PathWithNamespace, "refs/heads/main", before, sha));
            _pushes++;
            _forced++;
        }

        private async Task TagAsync(GeoSite site, Project project)
        {
            var tag = $"v{_n}";
            if (random.Next(2) == 0)
            {
                await project.Repo.GitAsync("tag", "-a", tag, "-m", $"release {_n}", "main");
            }
            else
            {
                await project.Repo.GitAsync("tag", tag, "main");
            }

            await project.Repo.GitAsync("push", "-q", "origin", tag);
            project.Tags.Add(tag);
            await RecordAsync(project);
            await site.Hooks.AcceptedAsync(Hooks.Push("tag_push", project.Id, project.Repo.PathWithNamespace, $"refs/tags/{tag}", Zero, await project.Repo.ShaAsync($"refs/tags/{tag}")));
            _pushes++;
            _tagChanges++;
        }

        private async Task DeleteTagAsync(GeoSite site, Project project)
        {
            if (project.Tags.Count == 0)
            {
                return;
            }

            var tag = project.Tags[random.Next(project.Tags.Count)];
            var before = await project.Repo.ShaAsync($"refs/tags/{tag}");
            await project.Repo.GitAsync("push", "-q", "origin", $":refs/tags/{tag}");
            await project.Repo.GitAsync("tag", "-d", tag);
            project.Tags.Remove(tag);
            await RecordAsync(project);
            await site.Hooks.AcceptedAsync(Hooks.Push("tag_push", project.Id, project.Repo.PathWithNamespace, $"refs/tags/{tag}", before, Zero));
            _pushes++;
            _tagChanges++;
        }

        private async Task RenameAsync(GeoSite site, Project project)
        {
            var old = project.Repo.PathWithNamespace;
            project.Repo = await project.Repo.MoveAsync($"crash/p{project.Id}-r{_n}");
            await RecordAsync(project);
            await site.Hooks.AcceptedAsync(Hooks.ProjectEvent("project_rename", project.Id, project.Repo.PathWithNamespace, old));
            _renames++;
        }

        /// <summary>As GitLab does: the repository is renamed out of the storage's way at once (a fetch never sees it half-deleted).</summary>
        private async Task DestroyAsync(GeoSite site, Project project)
        {
            var trash = Path.Combine(site.Root, "primary-trash", $"{project.Id}.git");
            Directory.CreateDirectory(Path.GetDirectoryName(trash)!);
            Directory.Move(project.Repo.BarePath, trash);
            lock (Gate)
            {
                Live.Remove(project);
                Destroyed.Add(project.Id);
            }

            await site.Hooks.AcceptedAsync(Hooks.ProjectEvent("project_destroy", project.Id, project.Repo.PathWithNamespace));
        }

        private async Task KeyAsync(GeoSite site)
        {
            List<long> live;
            lock (Gate)
            {
                live = Keys.Keys.Where(id => id < PreloadedIds && !DestroyedKeys.Contains(id)).ToList();
            }

            if (live.Count > 0 && random.Next(3) == 0)
            {
                var id = live[random.Next(live.Count)];
                lock (Gate)
                {
                    DestroyedKeys.Add(id);
                }

                await site.Hooks.AcceptedAsync(new JsonObject { ["event_name"] = "key_destroy", ["id"] = id, ["username"] = $"u{id}" });
                return;
            }

            var key = TestKeys.RandomEd25519();
            long created;
            lock (Gate)
            {
                created = _nextKey++;
                Keys[created] = key.Split(' ')[1];
            }

            await site.Hooks.AcceptedAsync(new JsonObject { ["event_name"] = "key_create", ["id"] = created, ["username"] = $"u{created}", ["key"] = key });
        }

        private async Task FileAsync(GeoSite site)
        {
            List<(string Kind, string Path)> live;
            lock (Gate)
            {
                live = Files.Where(f => f.Value.Live).Select(f => f.Key).ToList();
            }

            if (live.Count > 0 && random.Next(4) == 0)
            {
                var (kind, path) = live[random.Next(live.Count)];
                File.Delete(Path.Combine(site.PrimaryFiles(kind), path));
                lock (Gate)
                {
                    Files[(kind, path)] = (Files[(kind, path)].Sha, false);
                }

                await site.Hooks.AcceptedAsync(FileTests.FileEvent($"{kind}_destroy", path));
                return;
            }

            var newKind = FileKinds[random.Next(FileKinds.Length)];
            var newPath = $"crash/{_n}/f{_n}.bin";
            var bytes = new byte[50_000 + random.Next(600_000)];
            random.NextBytes(bytes);
            var full = Path.Combine(site.PrimaryFiles(newKind), newPath);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            await File.WriteAllBytesAsync(full, bytes);
            var sha = Convert.ToHexStringLower(SHA256.HashData(bytes));
            lock (Gate)
            {
                Files[(newKind, newPath)] = (sha, true);
            }

            await site.Hooks.AcceptedAsync(FileTests.FileEvent($"{newKind}_create", newPath, bytes.Length, sha));
        }
    }
}
