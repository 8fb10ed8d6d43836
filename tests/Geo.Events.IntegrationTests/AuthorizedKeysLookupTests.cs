using Geo.Events.Core.Keys;
using Geo.Events.Testing;
using Npgsql;

namespace Geo.Events.IntegrationTests;

/// <summary>geo-authorized-keys against the real PostgreSQL, seen from PostgreSQL's own statistics.</summary>
[TestClass]
public sealed class AuthorizedKeysLookupTests
{
    private static string NativeCommand =>
        Path.Combine(TestServers.RepoRoot, "src", "Geo.Events.AuthorizedKeys", "bin", TestServers.Configuration, "native", "geo-authorized-keys");

    /// <summary>
    /// Every SSH login opens one connection for one lookup. It must not begin with Npgsql's catalogue query (every type
    /// the database has: a sequential scan of pg_type on a backend that has just started), which was about half of a
    /// login's time over a Unix socket. The database is the test's own and is only touched by psql (which reads no
    /// catalogue) and the program; a psql scan of pg_type first shows that such a scan reaches the statistics.
    /// </summary>
    [TestMethod]
    public async Task ALoginDoesNotReadPostgreSqlsTypeCatalogue()
    {
        Assert.IsTrue(File.Exists(NativeCommand), $"{NativeCommand} is missing: `make build` (dotnet build of the solution) makes it; it needs clang");
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
            await PsqlAsync(database, "-f", Path.Combine(TestServers.RepoRoot, "infra", "sql", "secondary", "0002_ssh_keys.sql"));
            await PsqlAsync(database, "-c", $"""
                INSERT INTO ssh_keys (key_id, username, key_type, key_blob, fingerprint, sequence)
                VALUES (7, 'ada', '{key.Type}', '{key.Base64}', '{key.Fingerprint}', 1)
                """);

            var before = await TypeScansAsync(database);
            await PsqlAsync(database, "-c", "SELECT count(*) FROM pg_type");
            await GeoSite.WaitUntilAsync(async () => await TypeScansAsync(database) > before, TimeSpan.FromSeconds(30),
                () => "control: psql's scan of pg_type never reached the statistics");
            var control = await TypeScansAsync(database);

            var login = await Shell.RunCapturedAsync(NativeCommand, ["git", key.Type, key.Base64], new Dictionary<string, string>
            {
                ["GEO_ConnectionStrings__Postgres"] = TestServers.ConnectionString(database),
                ["GEO_Keys__ShellCommand"] = "/opt/gitlab/bin/gitlab-shell",
                ["GEO_Keys__SshUser"] = "git",
            });
            Assert.AreEqual((0, $"command=\"/opt/gitlab/bin/gitlab-shell key-7\",no-port-forwarding,no-X11-forwarding,no-agent-forwarding,no-pty {key}\n"),
                (login.ExitCode, login.Stdout), $"the key was not found: {login.Stderr}");

            // The program's backend reports its statistics when it exits, right after the program's connection closed. A
            // marker scanned by psql afterwards shows that later reports have arrived; then one more second of margin.
            var marker = await ScansAsync(database, "pg_am");
            await PsqlAsync(database, "-c", "SELECT count(*) FROM pg_am");
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

    private static async Task<long> ScansAsync(string database, string catalogue) =>
        long.Parse((await PsqlAsync(database, "-Atc", $"SELECT seq_scan FROM pg_stat_sys_tables WHERE relid = 'pg_catalog.{catalogue}'::regclass")).Trim(),
            System.Globalization.CultureInfo.InvariantCulture);

    private static async Task<string> PsqlAsync(string database, params string[] arguments)
    {
        var builder = new NpgsqlConnectionStringBuilder(TestServers.ConnectionString(database));
        var run = await Shell.RunCapturedAsync(TestServers.Psql, ["-X", "-v", "ON_ERROR_STOP=1", .. arguments], new Dictionary<string, string>
        {
            ["PGHOST"] = builder.Host!,
            ["PGPORT"] = builder.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["PGUSER"] = builder.Username!,
            ["PGPASSWORD"] = builder.Password!,
            ["PGDATABASE"] = database,
        });
        Assert.AreEqual(0, run.ExitCode, $"psql {string.Join(' ', arguments)}: {run.Stderr}");
        return run.Stdout;
    }
}
