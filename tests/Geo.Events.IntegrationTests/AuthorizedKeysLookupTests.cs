using Geo.Events.Core.Keys;
using Geo.Events.Testing;
using Npgsql;

namespace Geo.Events.IntegrationTests;

/// <summary>geo-authorized-keys against the real PostgreSQL, seen from PostgreSQL's own statistics.</summary>
[TestClass]
public sealed class AuthorizedKeysLookupTests
{
    /// <summary>
    /// Every SSH login opens one connection for one lookup. It must not begin with Npgsql's catalogue query (every type
    /// the database has: a sequential scan of pg_type on a backend that has just started), which was about half of a
    /// login's time over a Unix socket. The database is the test's own and is only touched by the program and by this
    /// test's connections, which read no catalogue; a scan of pg_type by one of them first shows that such a scan reaches
    /// the statistics.
    /// </summary>
    [TestMethod]
    public async Task ALoginDoesNotReadPostgreSqlsTypeCatalogue()
    {
        Assert.IsTrue(File.Exists(TestServers.AuthorizedKeysProgram), $"{TestServers.AuthorizedKeysProgram} is missing: `make build` (dotnet build of the solution) makes it; it needs clang");
        var database = $"geo_lookup_{Guid.NewGuid():N}";
        await using (var connection = new NpgsqlConnection(TestServers.ConnectionString("postgres")))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{database}\"", connection);
            await create.ExecuteNonQueryAsync();
        }

        try
        {
            var key = SshPublicKey.Parse(TestKeys.RandomEd25519());
            await ExecuteAsync(database, await File.ReadAllTextAsync(Path.Combine(TestServers.RepoRoot, "infra", "sql", "secondary", "0002_ssh_keys.sql")));
            await ExecuteAsync(database, "INSERT INTO ssh_keys (key_id, username, key_type, key_blob, fingerprint, sequence) VALUES (7, 'ada', $1, $2, $3, 1)",
                key.Type, key.Base64, key.Fingerprint);

            var before = await TypeScansAsync(database);
            await ExecuteAsync(database, "SELECT count(*) FROM pg_type");
            await GeoSite.WaitUntilAsync(async () => await TypeScansAsync(database) > before, TimeSpan.FromSeconds(30),
                () => "control: a scan of pg_type never reached the statistics");
            var control = await TypeScansAsync(database);

            var login = await Shell.RunCapturedAsync(TestServers.AuthorizedKeysProgram, ["git", key.Type, key.Base64], new Dictionary<string, string>
            {
                ["GEO_ConnectionStrings__Postgres"] = TestServers.ConnectionString(database),
                ["GEO_Keys__ShellCommand"] = "/opt/gitlab/bin/gitlab-shell",
                ["GEO_Keys__SshUser"] = "git",
            });
            Assert.AreEqual((0, $"command=\"/opt/gitlab/bin/gitlab-shell key-7\",no-port-forwarding,no-X11-forwarding,no-agent-forwarding,no-pty {key}\n"),
                (login.ExitCode, login.Stdout), $"the key was not found: {login.Stderr}");

            // The program's backend reports its statistics when it exits, right after the program's connection closed. A
            // marker scanned afterwards shows that later reports have arrived; then one more second of margin.
            var marker = await ScansAsync(database, "pg_am");
            await ExecuteAsync(database, "SELECT count(*) FROM pg_am");
            await GeoSite.WaitUntilAsync(async () => await ScansAsync(database, "pg_am") > marker, TimeSpan.FromSeconds(30),
                () => "the marker's scan never reached the statistics");
            await Task.Delay(TimeSpan.FromSeconds(1));

            Assert.AreEqual(control, await TypeScansAsync(database), "the login's connection scanned pg_type: Npgsql read the type catalogue");
        }
        finally
        {
            await TestServers.DropDatabaseAsync(database);
        }
    }

    private static Task<long> TypeScansAsync(string database) => ScansAsync(database, "pg_type");

    private static async Task<long> ScansAsync(string database, string catalogue)
    {
        await using var dataSource = WithoutTypeLoading(database);
        await using var command = dataSource.CreateCommand("SELECT seq_scan FROM pg_stat_sys_tables WHERE relid = $1::regclass");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = $"pg_catalog.{catalogue}" });
        return (long)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>Runs <paramref name="sql"/> on a connection of its own (its backend exits, and reports, when it closes).</summary>
    private static async Task ExecuteAsync(string database, string sql, params string[] parameters)
    {
        await using var dataSource = WithoutTypeLoading(database);
        await using var command = dataSource.CreateCommand(sql);
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = parameter });
        }

        await command.ExecuteNonQueryAsync();
    }

    /// <summary>The test's own connections: unpooled, and without the catalogue query the test looks for.</summary>
    private static NpgsqlDataSource WithoutTypeLoading(string database) =>
        new NpgsqlDataSourceBuilder(TestServers.ConnectionString(database))
            .ConfigureTypeLoading(types => types.EnableTypeLoading(false))
            .Build();
}
