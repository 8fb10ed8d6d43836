using Geo.Events.Core.Configuration;
using Geo.Events.Core.Keys;
using Microsoft.Extensions.Configuration;
using Npgsql;

namespace Geo.Events.Secondary.Keys;

/// <summary>
/// sshd_config's AuthorizedKeysCommand, <c>%u %t %k</c>: prints the gitlab-shell line of the presented key if it is
/// live in this secondary's registry, and nothing otherwise. Only that line goes to stdout (sshd reads it);
/// diagnostics go to stderr. One source for two programs: <c>geo-authorized-keys</c> (a NativeAOT executable that
/// compiles this file, what sshd should run: no .NET start per login) and <c>geo-secondary authorized-keys</c>.
/// </summary>
public static class AuthorizedKeysCommand
{
    public const string Verb = "authorized-keys";

    /// <summary>The connection string the lookup uses when set (a read-only role over a Unix socket); otherwise <c>Postgres</c>.</summary>
    public const string ConnectionName = "AuthorizedKeys";

    // The fingerprint (the index's key) is computed by PostgreSQL, which has SHA-256 at hand: in this short-lived
    // process, hashing would load and initialise OpenSSL, 41% of the native program's instructions per login over a
    // Unix socket (valgrind --tool=callgrind). Same value as SshPublicKey.Fingerprint: "SHA256:" + unpadded base64.
    private const string Lookup = """
        SELECT key_id, key_type, key_blob
          FROM ssh_keys
         WHERE fingerprint = 'SHA256:' || rtrim(encode(sha256(decode(@blob, 'base64')), 'base64'), '=')
           AND NOT destroyed AND key_type = @type AND key_blob = @blob
         ORDER BY key_id
         LIMIT 1
        """;

    /// <summary>
    /// The lookup's data source. The slim builder: no JSON, ranges or other type plugins that a three-column lookup never
    /// reads, so a trimmed native build starts without them; TLS and Kerberos stay available, as with the full builder.
    /// Type loading off: by default Npgsql's first connection in a process asks the database for every type it has (one
    /// large catalogue query on a backend that has just started), while this process makes one connection and reads a
    /// bigint and two texts, which Npgsql knows without asking. A login over a Unix socket took 21-25 ms with that
    /// query and 11-14 ms without it (100 logins, quiet machine).
    /// </summary>
    public static NpgsqlDataSource LookupDataSource(string connectionString) =>
        new NpgsqlSlimDataSourceBuilder(connectionString)
            .EnableTransportSecurity()
            .EnableIntegratedSecurity()
            .ConfigureTypeLoading(types => types.EnableTypeLoading(false))
            .Build();

    /// <param name="program">How diagnostics name the program (<c>geo-authorized-keys</c>).</param>
    /// <param name="arguments">sshd's <c>%u %t %k</c>: the user, the key type and the key's base64.</param>
    public static async Task<int> RunAsync(string program, IReadOnlyList<string> arguments)
    {
        if (arguments.Count != 3)
        {
            await Console.Error.WriteLineAsync($"usage: {program} <user> <key-type> <key-base64>   (sshd: %u %t %k)");
            return 2;
        }

        var configuration = GeoConfiguration.ForCommand();
        var options = configuration.GetSection(KeysOptions.Section).Get<KeysOptions>() ?? new KeysOptions();
        if (options.Problems().FirstOrDefault() is { } settingsProblem)
        {
            await Console.Error.WriteLineAsync($"{program}: {settingsProblem}");
            return 1;
        }

        var (user, type, blob) = (arguments[0], arguments[1], arguments[2]);
        if (user != options.SshUser)
        {
            return 0; // not the Git account: no keys from us
        }

        if (!SshPublicKey.TryParse($"{type} {blob}", out var key, out var problem))
        {
            await Console.Error.WriteLineAsync($"{program}: {problem}");
            return 0;
        }

        var connectionName = string.IsNullOrWhiteSpace(configuration.GetConnectionString(ConnectionName)) ? "Postgres" : ConnectionName;
        var connectionString = configuration.GetConnectionString(connectionName);
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            await Console.Error.WriteLineAsync($"{program}: ConnectionStrings:Postgres is not set (GEO_ConnectionStrings__Postgres)");
            return 1;
        }

        NpgsqlDataSource dataSource;
        try
        {
            dataSource = LookupDataSource(connectionString);
        }
        catch (ArgumentException)
        {
            // Not the exception's message: it may quote the connection string, password included.
            await Console.Error.WriteLineAsync($"{program}: ConnectionStrings:{connectionName} is not a valid connection string");
            return 1;
        }

        try
        {
            await using (dataSource)
            {
                await using var connection = await dataSource.OpenConnectionAsync();
                await using var command = new NpgsqlCommand(Lookup, connection);
                command.Parameters.Add(new NpgsqlParameter<string>("type", key.Type));
                command.Parameters.Add(new NpgsqlParameter<string>("blob", key.Base64));
                await using var reader = await command.ExecuteReaderAsync();
                if (await reader.ReadAsync())
                {
                    Console.Out.WriteLine(AuthorizedKeysLine.For(options.ShellCommand, reader.GetInt64(0), reader.GetString(1), reader.GetString(2)));
                }
            }

            return 0;
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            await Console.Error.WriteLineAsync($"{program}: the registry is unavailable: {e.Message}");
            return 1;
        }
    }
}
