using System.Text.RegularExpressions;
using Geo.Events.Core.Configuration;
using Geo.Events.Core.Storage;
using Npgsql;

namespace Geo.Events.Primary.Admin;

/// <summary>
/// <c>geo-primary admin-token create --scope read|admin --name N</c> (prints the token once), <c>revoke --name N</c>
/// and <c>list</c>: run where geo-primary runs, with its settings (its database).
/// </summary>
public static partial class AdminTokenCommand
{
    public const string Verb = "admin-token";

    private const string Usage = "usage: geo-primary admin-token create --scope read|admin --name <name> | revoke --name <name> | list";

    public static async Task<int> RunAsync(string[] args)
    {
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 2; i + 1 < args.Length; i += 2)
        {
            options[args[i]] = args[i + 1];
        }

        var action = args.Length > 1 ? args[1] : "";
        var name = options.GetValueOrDefault("--name");
        var scope = options.GetValueOrDefault("--scope");
        if (action is not ("create" or "revoke" or "list") || (args.Length - 2) % 2 != 0
            || options.Keys.Any(k => k is not ("--name" or "--scope"))
            || (action != "list" && name is null) || (action == "create" && scope is null))
        {
            await Console.Error.WriteLineAsync(Usage);
            return 2;
        }

        if (name is not null && !NamePattern().IsMatch(name))
        {
            await Console.Error.WriteLineAsync("geo-primary: --name must be 1-63 characters: lowercase letters, digits, '.', '_' or '-', starting with a letter or digit");
            return 2;
        }

        if (action == "create" && scope is not (AdminTokenStore.ReadScope or AdminTokenStore.AdminScope))
        {
            await Console.Error.WriteLineAsync($"geo-primary: --scope must be '{AdminTokenStore.ReadScope}' (status, lists, shows) or '{AdminTokenStore.AdminScope}' (also replay, delete, restore, remove, backfill, verify, resync, guard)");
            return 2;
        }

        var configuration = GeoConfiguration.ForCommand();
        var connectionString = configuration.GetConnectionString("Postgres");
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            await Console.Error.WriteLineAsync("geo-primary: ConnectionStrings:Postgres is not set (GEO_ConnectionStrings__Postgres)");
            return 78;
        }

        try
        {
            using var loggers = LoggerFactory.Create(_ => { });
            await new Migrator(connectionString, typeof(AdminTokenCommand).Assembly, loggers.CreateLogger("migrations")).MigrateAsync(CancellationToken.None);
            await using var dataSource = NpgsqlDataSource.Create(connectionString);
            var store = new AdminTokenStore(dataSource);
            switch (action)
            {
                case "create":
                    if (await store.CreateAsync(name!, scope!, CancellationToken.None) is not { } token)
                    {
                        await Console.Error.WriteLineAsync($"geo-primary: an admin token named '{name}' exists; revoke it first");
                        return 1;
                    }

                    // Only here, once: geo-primary keeps its SHA-256.
                    Console.WriteLine(token);
                    await Console.Error.WriteLineAsync($"admin token '{name}' (scope {scope}) created; it is not shown again");
                    return 0;
                case "revoke":
                    if (!await store.RevokeAsync(name!, CancellationToken.None))
                    {
                        await Console.Error.WriteLineAsync($"geo-primary: no admin token named '{name}'");
                        return 3;
                    }

                    Console.WriteLine($"admin token '{name}' revoked");
                    return 0;
                default:
                    foreach (var t in await store.ListAsync(CancellationToken.None))
                    {
                        Console.WriteLine($"{t.Name}\t{t.Scope}\tcreated {t.CreatedAt:u}\tlast used {(t.LastUsedAt is { } used ? used.ToString("u", System.Globalization.CultureInfo.InvariantCulture) : "never")}");
                    }

                    return 0;
            }
        }
        catch (NpgsqlException e)
        {
            await Console.Error.WriteLineAsync($"geo-primary: cannot reach PostgreSQL: {e.Message}");
            return 4;
        }
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]{0,62}$")]
    private static partial Regex NamePattern();
}
