using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using Npgsql;

namespace Geo.Events.Testing;

/// <summary>
/// The real RabbitMQ and PostgreSQL that infra/local/up started. Settings come from the same GEO_* variables
/// as infra/local/env.sh, with the same defaults. Each test gets its own vhost and databases from here.
/// </summary>
public static class TestServers
{
    public static string RepoRoot { get; } = FindRepoRoot();
    public static string PgHost => Env("GEO_PG_HOST", "127.0.0.1");
    public static int PgPort => int.Parse(Env("GEO_PG_PORT", "55432"));
    public static string PgUser => Env("GEO_PG_USER", "geo");
    public static string PgPassword => Env("GEO_PG_PASSWORD", "geo");
    public static string RabbitHost => Env("GEO_RABBIT_HOST", "127.0.0.1");
    public static int RabbitPort => int.Parse(Env("GEO_RABBIT_PORT", "55672"));
    public static int RabbitManagementPort => int.Parse(Env("GEO_RABBIT_MGMT_PORT", "55673"));
    public static string RabbitUser => Env("GEO_RABBIT_USER", "geo");
    public static string RabbitPassword => Env("GEO_RABBIT_PASSWORD", "geo");

    /// <summary>Debug or Release: the configuration the tests themselves were built in, so the processes match.</summary>
    public static string Configuration { get; } = new DirectoryInfo(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)).Parent!.Name;

    /// <summary>geo-secondary.dll as <c>make build</c> makes it (what <c>dotnet</c> runs for its subcommands).</summary>
    public static string SecondaryProgram =>
        Path.Combine(RepoRoot, "src", "Geo.Events.Secondary", "bin", Configuration, "net10.0", "geo-secondary.dll");

    /// <summary>geo-authorized-keys, the NativeAOT executable <c>make build</c> makes (what sshd should run).</summary>
    public static string AuthorizedKeysProgram =>
        Path.Combine(RepoRoot, "src", "Geo.Events.AuthorizedKeys", "bin", Configuration, "native", "geo-authorized-keys");

    /// <summary>
    /// A connection string for <paramref name="database"/>. The tests' own short queries go unpooled so a
    /// dropped database leaves no idle connection behind; the services get pooling, as in production
    /// (every unpooled open is a new TCP connection and a SCRAM handshake).
    /// </summary>
    public static string ConnectionString(string database, bool pooling = false) =>
        new NpgsqlConnectionStringBuilder
        {
            Host = PgHost,
            Port = PgPort,
            Username = PgUser,
            Password = PgPassword,
            Database = database,
            Pooling = pooling,
        }.ConnectionString;

    /// <summary>
    /// A connection string for <paramref name="database"/> over PostgreSQL's Unix socket, without a password:
    /// infra/local trusts local connections, as a production server would with peer authentication for the same role.
    /// </summary>
    public static async Task<string> SocketConnectionStringAsync(string database)
    {
        await using var connection = new NpgsqlConnection(ConnectionString("postgres"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SHOW unix_socket_directories", connection);
        var directory = ((string)(await command.ExecuteScalarAsync())!).Split(',')[0].Trim();
        return new NpgsqlConnectionStringBuilder { Host = directory, Port = PgPort, Username = PgUser, Database = database, Pooling = false }.ConnectionString;
    }

    /// <summary>
    /// PostgreSQL's own psql (the newest /usr/lib/postgresql/N/bin, as infra/local/env.sh picks the server), not Debian's
    /// /usr/bin/psql: that is pg_wrapper, a Perl script that starts Perl before it runs psql (about 28 ms and 25 ms of
    /// CPU per call here, which made the bench's psql floor twice what a C client costs).
    /// </summary>
    public static string Psql { get; } =
        (Directory.Exists("/usr/lib/postgresql") ? Directory.GetDirectories("/usr/lib/postgresql") : [])
            .Select(folder => (Major: int.TryParse(Path.GetFileName(folder), out var major) ? major : 0, Path: Path.Combine(folder, "bin", "psql")))
            .Where(candidate => File.Exists(candidate.Path))
            .OrderBy(candidate => candidate.Major)
            .Select(candidate => candidate.Path)
            .LastOrDefault() ?? "psql";

    public static async Task DropDatabaseAsync(string database)
    {
        await using var connection = new NpgsqlConnection(ConnectionString("postgres"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)", connection);
        await command.ExecuteNonQueryAsync();
    }

    public static Core.Messaging.RabbitMqOptions RabbitOptions(string vhost) => new()
    {
        Host = RabbitHost,
        Port = (ushort)RabbitPort,
        VirtualHost = vhost,
        Username = RabbitUser,
        Password = RabbitPassword,
    };

    public static HttpClient Management()
    {
        var client = new HttpClient { BaseAddress = new Uri($"http://{RabbitHost}:{RabbitManagementPort}/api/") };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue(
            "Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{RabbitUser}:{RabbitPassword}")));
        return client;
    }

    public static async Task CreateVhostAsync(string vhost)
    {
        using var client = Management();
        (await client.PutAsync($"vhosts/{Uri.EscapeDataString(vhost)}", null)).EnsureSuccessStatusCode();
        (await client.PutAsJsonAsync($"permissions/{Uri.EscapeDataString(vhost)}/{RabbitUser}", new { configure = ".*", write = ".*", read = ".*" }))
            .EnsureSuccessStatusCode();
    }

    public static async Task DeleteVhostAsync(string vhost)
    {
        using var client = Management();
        await client.DeleteAsync($"vhosts/{Uri.EscapeDataString(vhost)}");
    }

    /// <summary>Runs infra/local/rabbitmqctl (stop_app, start_app, …) against the test broker.</summary>
    public static Task RabbitCtlAsync(params string[] args) =>
        Shell.RunAsync(Path.Combine(RepoRoot, "infra", "local", "rabbitmqctl"), RepoRoot, args);

    private static string Env(string name, string fallback) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : fallback;

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Geo.Events.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Geo.Events.sln not found above " + AppContext.BaseDirectory);
    }
}
