using Geo.Events.Core.Configuration;
using Geo.Events.Core.Keys;
using Npgsql;

namespace Geo.Events.Secondary.Keys;

/// <summary>
/// <c>geo-secondary authorized-keys %u %t %k</c>, for sshd_config's AuthorizedKeysCommand: prints the
/// gitlab-shell line of the presented key if it is live in this secondary's registry, and nothing
/// otherwise. Only that line goes to stdout (sshd reads it); diagnostics go to stderr.
/// </summary>
public static class AuthorizedKeysCommand
{
    public const string Verb = "authorized-keys";

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length != 4)
        {
            await Console.Error.WriteLineAsync("usage: geo-secondary authorized-keys <user> <key-type> <key-base64>   (sshd: %u %t %k)");
            return 2;
        }

        var configuration = GeoConfiguration.ForCommand();
        var options = configuration.GetSection(KeysOptions.Section).Get<KeysOptions>() ?? new KeysOptions();
        if (options.Problems().FirstOrDefault() is { } settingsProblem)
        {
            await Console.Error.WriteLineAsync($"geo-secondary authorized-keys: {settingsProblem}");
            return 1;
        }

        var (user, type, blob) = (args[1], args[2], args[3]);
        if (user != options.SshUser)
        {
            return 0; // not the Git account: no keys from us
        }

        if (!SshPublicKey.TryParse($"{type} {blob}", out var key, out var problem))
        {
            await Console.Error.WriteLineAsync($"geo-secondary authorized-keys: {problem}");
            return 0;
        }

        try
        {
            await using var dataSource = NpgsqlDataSource.Create(configuration.GetConnectionString("Postgres")!);
            var found = await new KeyRegistry(dataSource).FindAsync(key, CancellationToken.None);
            if (found is not null)
            {
                Console.Out.WriteLine(AuthorizedKeysFile.Line(options.ShellCommand, found.KeyId, found.KeyType, found.KeyBlob));
            }

            return 0;
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            await Console.Error.WriteLineAsync($"geo-secondary authorized-keys: the registry is unavailable: {e.Message}");
            return 1;
        }
    }
}
