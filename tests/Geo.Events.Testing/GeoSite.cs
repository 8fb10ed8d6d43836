using System.Security.Cryptography;
using System.Text;
using Dapper;
using MassTransit;
using Npgsql;

namespace Geo.Events.Testing;

/// <summary>
/// One isolated deployment for one test: its own RabbitMQ vhost, its own databases, its own folders, a real
/// geo-primary and real geo-secondary processes. Disposing it kills the processes and removes all of it.
/// </summary>
public sealed class GeoSite : IAsyncDisposable
{
    public const string Token = "integration-test-token";
    public const string RegistrationToken = "integration-test-registration-token";

    /// <summary>The token geo-primary's status page and geo-admin wait present to a secondary's GET /api/v1/mirrors/{id}.</summary>
    public const string MirrorApiToken = "integration-test-mirror-api-token";
    private static readonly TimeSpan ConvergeTimeout = TimeSpan.FromSeconds(90);

    private readonly string _id = "t" + Guid.NewGuid().ToString("N")[..10];
    private readonly Dictionary<string, GeoProcess> _secondaries = [];
    private readonly Dictionary<string, Uri> _secondaryUrls = [];
    private readonly string[] _secondaryNames;
    private readonly bool _register;
    private GeoProcess? _primary;
    private readonly Dictionary<string, (GeoProcess Process, Uri Url)> _otherPrimaries = [];
    private readonly Dictionary<string, Uri> _otherPrimaryUrls = [];
    private IReadOnlyDictionary<string, string> _primarySettings = new Dictionary<string, string>();

    /// <summary>geo-primary's store of one file kind (upload, lfs_object, avatar).</summary>
    public string PrimaryFiles(string kind) => Path.Combine(Root, "primary-files", kind);

    /// <summary>A secondary's store of one file kind.</summary>
    public string SecondaryFiles(string name, string kind) => Path.Combine(Root, "files-" + name, kind);

    private GeoSite(string[] secondaryNames, bool register)
    {
        _secondaryNames = secondaryNames;
        _register = register;
        Root = Path.Combine(Path.GetTempPath(), "geo-events-tests", _id);
        Directory.CreateDirectory(Path.Combine(Root, "logs"));
        Directory.CreateDirectory(StorageRoot);
        var port = GeoProcess.FreePort();
        PrimaryUrl = new Uri($"http://127.0.0.1:{port}");
        Http = new HttpClient { BaseAddress = PrimaryUrl, Timeout = TimeSpan.FromSeconds(30) };
        Hooks = new Hooks(Http, Token);
    }

    public string Root { get; }
    public string StorageRoot => Path.Combine(Root, "primary-repos");
    public Uri PrimaryUrl { get; }
    public HttpClient Http { get; }
    public Hooks Hooks { get; }
    public string VirtualHost => "geo-" + _id;
    public string PrimaryDatabase => $"geo_{_id}_primary";
    public string SecondaryDatabase(string name) => $"geo_{_id}_{name}";
    public string MirrorRoot(string name) => Path.Combine(Root, "mirrors-" + name);
    public string MirrorPath(string name, string pathWithNamespace) => Path.Combine(MirrorRoot(name), pathWithNamespace + ".git");
    public GeoProcess Primary => _primary ?? throw new InvalidOperationException("geo-primary is not running");

    /// <summary>The broker geo-primary and the secondaries use (a secondary may be pointed at another one by its settings).</summary>
    public TestBroker Broker { get; private init; } = TestBroker.Shared;

    /// <summary>
    /// Starts geo-primary configured with <paramref name="secondaries"/>, and those secondaries unless told
    /// otherwise. With <paramref name="register"/>, geo-primary is told of no secondary: each registers itself
    /// at start (POST /api/v1/secondaries) and reports its status every second.
    /// </summary>
    public static async Task<GeoSite> StartAsync(
        string[] secondaries, bool startSecondaries = true, IReadOnlyDictionary<string, string>? secondarySettings = null, bool register = false,
        IReadOnlyDictionary<string, string>? primarySettings = null, TestBroker? broker = null)
    {
        var site = new GeoSite(secondaries, register) { _primarySettings = primarySettings ?? new Dictionary<string, string>(), Broker = broker ?? TestBroker.Shared };
        try
        {
            await site.Broker.CreateVhostAsync(site.VirtualHost);
            await site.StartPrimaryAsync();
            if (startSecondaries)
            {
                foreach (var name in secondaries)
                {
                    site.StartSecondary(name, secondarySettings);
                }

                foreach (var name in secondaries)
                {
                    await site.WaitForSecondaryAsync(name);
                }
            }

            return site;
        }
        catch
        {
            await site.DisposeAsync();
            throw;
        }
    }

    public Task<PrimaryRepository> CreateRepositoryAsync(string pathWithNamespace) =>
        PrimaryRepository.CreateAsync(StorageRoot, pathWithNamespace, Path.Combine(Root, "work"));

    /// <summary>A repository in GitLab's hashed storage, reachable by the secondaries at its path (see <see cref="PrimaryRepository.CreateHashedAsync"/>).</summary>
    public Task<PrimaryRepository> CreateHashedRepositoryAsync(string projectPath, long projectId, bool wiki = false) =>
        PrimaryRepository.CreateHashedAsync(StorageRoot, projectId, projectPath, Path.Combine(Root, "work"), wiki);

    /// <summary>Any repository type in GitLab's hashed storage (see <see cref="PrimaryRepository.CreateStoredAsync"/>).</summary>
    public Task<PrimaryRepository> CreateStoredRepositoryAsync(Contracts.RepositoryKind kind, long ownerId, string fullPath) =>
        PrimaryRepository.CreateStoredAsync(StorageRoot, kind, ownerId, fullPath, Path.Combine(Root, "work"));

    /// <summary>
    /// How most tests begin: a repository on the primary with one commit on main, pushed with git and announced
    /// by GitLab's push hook (accepted with 202). Returns the repository and that commit.
    /// </summary>
    public async Task<(PrimaryRepository Repository, string Sha)> CreatePushedRepositoryAsync(string pathWithNamespace, long projectId, string message = "first")
    {
        var repo = await CreateRepositoryAsync(pathWithNamespace);
        var (sha, _) = await PushWithHookAsync(repo, projectId, message);
        return (repo, sha);
    }

    /// <summary>
    /// Commits on main, pushes it, then posts the push hook GitLab sends for it (main moved from
    /// <paramref name="before"/>, a new branch by default) and insists on 202. Returns the commit and the event's sequence.
    /// </summary>
    public async Task<(string Sha, long Sequence)> PushWithHookAsync(PrimaryRepository repo, long projectId, string message, string before = PrimaryRepository.Zero)
    {
        var sha = await repo.CommitAndPushAsync(message);
        var sequence = await Hooks.AcceptedAsync(Hooks.Push("push", projectId, repo.PathWithNamespace, "refs/heads/main", before, sha));
        return (sha, sequence);
    }

    private Dictionary<string, string> Common(string database)
    {
        var settings = Broker.Settings(VirtualHost);
        settings["ConnectionStrings:Postgres"] = TestServers.ConnectionString(database, pooling: true);
        return settings;
    }

    /// <summary>A MassTransit bus on this site's vhost that publishes straight to the exchanges, as a replay or an attacker would, skipping geo-primary.</summary>
    public async Task<ForgeryBus> ForgeryBusAsync()
    {
        var bus = Bus.Factory.CreateUsingRabbitMq(cfg => Core.Messaging.GeoTopology.ConfigureHost(cfg, TestServers.RabbitOptions(VirtualHost)));
        await bus.StartAsync();
        return new ForgeryBus(bus);
    }

    /// <summary>
    /// Starts geo-primary; with <paramref name="instance"/>, another instance of it (its own port and log, the same
    /// database, vhost and storage), as a second machine behind the same hook URL would be. Returns where it listens.
    /// </summary>
    public async Task<Uri> StartPrimaryAsync(string? instance = null)
    {
        var settings = Common(PrimaryDatabase);
        settings["Primary:HookTokenSha256"] = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Token)));
        settings["Primary:RepositoryRoot"] = StorageRoot;
        settings["Primary:MirrorApiToken"] = MirrorApiToken;
        settings["Primary:FileScanInterval"] = "00:00:00"; // the storage watcher is off unless a test turns it on
        settings["Primary:RepositoryScanInterval"] = "00:00:00"; // so is the repository change detector
        foreach (var kind in new[] { "upload", "lfs_object", "avatar" })
        {
            Directory.CreateDirectory(PrimaryFiles(kind));
            settings[$"Primary:Files:{kind}"] = PrimaryFiles(kind);
        }

        settings["Primary:HashedIdScanLimit"] = "10000";
        foreach (var (key, value) in _primarySettings)
        {
            settings[key] = value;
        }

        settings["Primary:RegistrationTokenSha256"] = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(RegistrationToken)));
        for (var i = 0; i < (_register ? 0 : _secondaryNames.Length); i++)
        {
            settings[$"Primary:Secondaries:{i}"] = _secondaryNames[i];
        }

        var url = instance is null
            ? PrimaryUrl
            : _otherPrimaryUrls.TryGetValue(instance, out var known) ? known : new Uri($"http://127.0.0.1:{GeoProcess.FreePort()}");
        var process = GeoProcess.Start("Geo.Events.Primary", "geo-primary.dll", settings,
            Path.Combine(Root, "logs", instance is null ? "geo-primary.log" : $"geo-primary-{instance}.log"), "--urls", url.ToString());
        if (instance is null)
        {
            _primary = process;
        }
        else
        {
            _otherPrimaryUrls[instance] = url;
            _otherPrimaries[instance] = (process, url);
        }

        using var http = new HttpClient { BaseAddress = url, Timeout = TimeSpan.FromSeconds(30) };
        await WaitUntilAsync(async () =>
        {
            try
            {
                using var response = await http.GetAsync("/health/ready");
                return response.IsSuccessStatusCode;
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(60), () => "geo-primary did not become ready:\n" + Tail(process.Log()));
        return url;
    }

    /// <summary>Another geo-primary instance started by <see cref="StartPrimaryAsync"/>.</summary>
    public GeoProcess PrimaryInstance(string instance) => _otherPrimaries[instance].Process;

    /// <summary>Kills (SIGKILL) another geo-primary instance; StartPrimaryAsync(instance) starts it again on the same port.</summary>
    public async Task KillPrimaryAsync(string instance)
    {
        if (_otherPrimaries.Remove(instance, out var other))
        {
            await other.Process.DisposeAsync();
        }
    }

    /// <summary>
    /// Starts a secondary; <paramref name="extra"/> settings go last so a test can point it elsewhere, and
    /// <paramref name="environment"/> is set in its process as it is (e.g. GIT_SSH_COMMAND for an ssh:// primary).
    /// </summary>
    /// <remarks>
    /// With <paramref name="instance"/>, another instance of the same secondary (the same database, queue and mirror
    /// storage; its own port and log), known to the other methods as <c>name.instance</c>.
    /// </remarks>
    public void StartSecondary(string name, IReadOnlyDictionary<string, string>? extra = null, IReadOnlyDictionary<string, string>? environment = null, string? instance = null)
    {
        var processKey = instance is null ? name : $"{name}.{instance}";
        var settings = Common(SecondaryDatabase(name));
        settings["Secondary:Name"] = name;
        settings["Secondary:MirrorRoot"] = MirrorRoot(name);
        settings["Secondary:PrimaryGitUrl"] = StorageRoot;
        settings["Secondary:MirrorApiTokenSha256"] = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(MirrorApiToken)));
        foreach (var kind in new[] { "upload", "lfs_object", "avatar" })
        {
            settings[$"Secondary:Files:{kind}"] = SecondaryFiles(name, kind);
        }

        // The mass-destruction guard's share rule would hold the second destroy among a test's handful of projects;
        // tests of the guard set it themselves.
        settings["Secondary:DestroyGuardPercent"] = "0";
        if (_register)
        {
            settings["Secondary:PrimaryUrl"] = PrimaryUrl.ToString();
            settings["Secondary:RegistrationToken"] = RegistrationToken;
            settings["Secondary:HeartbeatInterval"] = "00:00:01";
        }

        foreach (var (key, value) in extra ?? new Dictionary<string, string>())
        {
            settings[key] = value; // last, so a test can point the secondary elsewhere (e.g. through a faulty proxy)
        }

        var url = _secondaryUrls.TryGetValue(processKey, out var known) ? known : new Uri($"http://127.0.0.1:{GeoProcess.FreePort()}");
        _secondaryUrls[processKey] = url;
        settings["Urls"] = url.ToString();
        _secondaries[processKey] = GeoProcess.Start("Geo.Events.Secondary", "geo-secondary.dll", settings, Path.Combine(Root, "logs", $"geo-secondary-{processKey}.log"), environment);
    }

    /// <summary>Waits until a secondary answers /health/ready: migrated, connected, consuming.</summary>
    public async Task WaitForSecondaryAsync(string name)
    {
        using var http = new HttpClient { BaseAddress = SecondaryUrl(name), Timeout = TimeSpan.FromSeconds(5) };
        await WaitUntilAsync(async () =>
        {
            try
            {
                using var response = await http.GetAsync("/health/ready");
                return response.IsSuccessStatusCode;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(60), () => $"geo-secondary {name} did not become ready:\n" + Tail(_secondaries[name].Log()));
    }

    public async Task KillSecondaryAsync(string name)
    {
        if (_secondaries.Remove(name, out var process))
        {
            await process.DisposeAsync();
        }
    }

    /// <summary>Kills geo-primary (SIGKILL); StartPrimaryAsync starts it again on the same port and database.</summary>
    public async Task KillPrimaryAsync()
    {
        if (_primary is { } process)
        {
            _primary = null;
            await process.DisposeAsync();
        }
    }

    /// <summary>Waits until each named secondary's mirror has exactly the primary repository's refs.</summary>
    public async Task WaitForMirrorsAsync(PrimaryRepository repo, params string[] secondaries)
    {
        var names = secondaries.Length > 0 ? secondaries : _secondaryNames;
        var expected = await repo.RefsAsync();
        await WaitUntilAsync(async () =>
        {
            foreach (var name in names)
            {
                var actual = await PrimaryRepository.ReadRefsAsync(MirrorPath(name, repo.MirrorName ?? repo.PathWithNamespace));
                if (!SameRefs(expected, actual))
                {
                    return false;
                }
            }

            return true;
        }, ConvergeTimeout, () => Describe(repo, expected, names));
    }

    public static bool SameRefs(IReadOnlyDictionary<string, string> a, IReadOnlyDictionary<string, string> b) =>
        a.Count == b.Count && a.All(pair => b.TryGetValue(pair.Key, out var other) && other == pair.Value);

    public GeoProcess Secondary(string name) => _secondaries[name];

    /// <summary>Where a secondary's HTTP endpoints (/health, /metrics) listen.</summary>
    public Uri SecondaryUrl(string name) => _secondaryUrls[name];

    /// <summary>geo-admin's settings for this site: geo-primary's database and the site's vhost; after <see cref="UseAdminApiAsync"/>, geo-primary's admin API and a token, and a database and broker that cannot be reached.</summary>
    public IReadOnlyDictionary<string, string> AdminSettings()
    {
        if (_adminToken is not null)
        {
            return new Dictionary<string, string>
            {
                ["ADMIN_URL"] = PrimaryUrl.ToString(),
                ["ADMIN_TOKEN"] = _adminToken,
                ["ADMIN_ACTOR"] = "integration-test",
                ["ConnectionStrings:Postgres"] = "Host=127.0.0.1;Port=1;Username=nobody;Password=nothing;Database=nothing;Timeout=1",
                ["RabbitMq:Port"] = "1",
                ["RabbitMq:Password"] = "nothing",
            };
        }

        var settings = Common(PrimaryDatabase);
        settings["ADMIN_ACTOR"] = "integration-test";
        settings["MIRROR_API_TOKEN"] = MirrorApiToken; // GEO_MIRROR_API_TOKEN, for geo-admin wait
        return settings;
    }

    private string? _adminToken;

    /// <summary>Who geo-admin's actions are recorded as: GEO_ADMIN_ACTOR on the database, the token's name through the API.</summary>
    public string AdminActor => _adminToken is null ? "integration-test" : "admin-token:integration-test";

    /// <summary>
    /// From now on geo-admin (<see cref="AdminAsync"/>, <see cref="StartAdmin"/>) goes through geo-primary's admin API,
    /// with an <c>admin</c> token named integration-test made by <c>geo-primary admin-token create</c>, and has no
    /// working database or broker settings.
    /// </summary>
    public async Task UseAdminApiAsync(string scope = "admin")
    {
        var path = Path.Combine(TestServers.RepoRoot, "src", "Geo.Events.Primary", "bin", TestServers.Configuration, "net10.0", "geo-primary.dll");
        var info = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { path, "admin-token", "create", "--scope", scope, "--name", "integration-test" })
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["GEO_ConnectionStrings__Postgres"] = TestServers.ConnectionString(PrimaryDatabase);
        using var process = System.Diagnostics.Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"geo-primary admin-token create failed ({process.ExitCode}): {await stderr}");
        }

        _adminToken = (await stdout).Trim();
    }

    /// <summary>Runs geo-admin to completion.</summary>
    public async Task<(int ExitCode, string Stdout, string Stderr)> AdminAsync(params string[] args)
    {
        var path = Path.Combine(TestServers.RepoRoot, "src", "Geo.Events.Admin", "bin", TestServers.Configuration, "net10.0", "geo-admin.dll");
        var info = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(path);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var (key, value) in AdminSettings())
        {
            info.Environment["GEO_" + key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        using var process = System.Diagnostics.Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Starts geo-admin and leaves it running (for a test that kills it).</summary>
    public GeoProcess StartAdmin(params string[] args) =>
        GeoProcess.Start("Geo.Events.Admin", "geo-admin.dll", AdminSettings(), Path.Combine(Root, "logs", "geo-admin.log"), args);

    public async Task<T> QueryPrimaryAsync<T>(string sql, object? parameters = null)
    {
        await using var connection = new NpgsqlConnection(TestServers.ConnectionString(PrimaryDatabase));
        return await connection.QuerySingleAsync<T>(sql, parameters);
    }

    /// <summary>A queue's depth and how many deliveries consumers acknowledged so far.</summary>
    public async Task<(long Messages, long Acknowledged)> QueueStatsAsync(string queue)
    {
        using var client = Broker.Management();
        using var response = await client.GetAsync($"queues/{Uri.EscapeDataString(VirtualHost)}/{Uri.EscapeDataString(queue)}");
        if (response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return (0, 0);
        }

        response.EnsureSuccessStatusCode();
        var json = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        var messages = json.TryGetProperty("messages", out var m) && m.ValueKind == System.Text.Json.JsonValueKind.Number ? m.GetInt64() : 0;
        var acked = json.TryGetProperty("message_stats", out var stats) && stats.TryGetProperty("ack", out var a) ? a.GetInt64() : 0;
        return (messages, acked);
    }

    /// <summary>Takes every message off a queue, in queue order, and returns each one's Sequence.</summary>
    public async Task<List<long>> DrainSequencesAsync(string queue)
    {
        using var management = Broker.Management();
        var sequences = new List<long>();
        while (true)
        {
            using var response = await management.PostAsync(
                $"queues/{Uri.EscapeDataString(VirtualHost)}/{Uri.EscapeDataString(queue)}/get",
                System.Net.Http.Json.JsonContent.Create(new { count = 500, ackmode = "ack_requeue_false", encoding = "auto" }));
            response.EnsureSuccessStatusCode();
            var messages = System.Text.Json.Nodes.JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsArray();
            if (messages.Count == 0)
            {
                return sequences;
            }

            foreach (var message in messages)
            {
                var envelope = System.Text.Json.Nodes.JsonNode.Parse(message!["payload"]!.GetValue<string>())!.AsObject();
                var body = envelope.First(p => p.Key.Equals("message", StringComparison.OrdinalIgnoreCase)).Value!.AsObject();
                sequences.Add(body.First(p => p.Key.Equals("sequence", StringComparison.OrdinalIgnoreCase)).Value!.GetValue<long>());
            }
        }
    }

    public async Task<long> EventCountAsync()
    {
        await using var connection = new NpgsqlConnection(TestServers.ConnectionString(PrimaryDatabase));
        return await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM event_log");
    }

    public async Task<T> QuerySecondaryAsync<T>(string name, string sql, object? parameters = null)
    {
        await using var connection = new NpgsqlConnection(TestServers.ConnectionString(SecondaryDatabase(name)));
        return await connection.QuerySingleAsync<T>(sql, parameters);
    }

    public static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, Func<string> describe)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"not reached within {timeout.TotalSeconds} s: {describe()}");
            }

            await Task.Delay(200);
        }
    }

    private string Describe(PrimaryRepository repo, IReadOnlyDictionary<string, string> expected, string[] names)
    {
        var text = new StringBuilder("mirrors differ from the primary\nprimary: ")
            .AppendJoin(", ", expected.Select(p => $"{p.Key}={p.Value[..8]}"));
        foreach (var name in names)
        {
            var actual = PrimaryRepository.ReadRefsAsync(MirrorPath(name, repo.MirrorName ?? repo.PathWithNamespace)).GetAwaiter().GetResult();
            text.Append($"\n{name}: ").AppendJoin(", ", actual.Select(p => $"{p.Key}={p.Value[..8]}"));
            if (_secondaries.TryGetValue(name, out var process))
            {
                text.Append($"\n--- {name} log ---\n").Append(Tail(process.Log()));
            }
        }

        if (_primary is not null)
        {
            text.Append("\n--- primary log ---\n").Append(Tail(_primary.Log()));
        }

        return text.ToString();
    }

    private static string Tail(string log) => log.Length > 6000 ? log[^6000..] : log;

    public async ValueTask DisposeAsync()
    {
        foreach (var process in _secondaries.Values)
        {
            await process.DisposeAsync();
        }

        if (_primary is not null)
        {
            await _primary.DisposeAsync();
        }

        foreach (var (process, _) in _otherPrimaries.Values)
        {
            await process.DisposeAsync();
        }

        Http.Dispose();
        if (Environment.GetEnvironmentVariable("GEO_TEST_KEEP") == "1")
        {
            return; // keep the vhost, databases, folders and logs for a look after the run
        }

        await Broker.DeleteVhostAsync(VirtualHost);
        await TestServers.DropDatabaseAsync(PrimaryDatabase);
        foreach (var name in _secondaryNames)
        {
            await TestServers.DropDatabaseAsync(SecondaryDatabase(name));
        }

        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a leftover temp folder is not worth failing a test for.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
