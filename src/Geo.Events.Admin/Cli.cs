using System.Text.Json;
using Spectre.Console;

namespace Geo.Events.Admin;

/// <summary>What every geo-admin command shares: how it runs, how it prints, how it fails.</summary>
public static class Cli
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    /// <summary>Runs a command against the deployment; maps the failures a script can act on to exit codes.</summary>
    public static async Task<int> Run(Func<AdminContext, Task<int>> action)
    {
        try
        {
            await using var context = AdminContext.Create();
            return await action(context);
        }
        catch (UsageException e)
        {
            await Console.Error.WriteLineAsync($"geo-admin: {e.Message}");
            return ExitCodes.Usage;
        }
        catch (AdminApiRefusedException e)
        {
            await Console.Error.WriteLineAsync($"geo-admin: {e.Message}");
            return ExitCodes.Refused;
        }
        catch (HttpRequestException e)
        {
            await Console.Error.WriteLineAsync($"geo-admin: cannot reach geo-primary's admin API: {e.Message}");
            return ExitCodes.Unavailable;
        }
        catch (Exception e) when (e is Npgsql.NpgsqlException or RabbitMQ.Client.Exceptions.BrokerUnreachableException or TimeoutException)
        {
            await Console.Error.WriteLineAsync($"geo-admin: cannot reach {(e is Npgsql.NpgsqlException ? "PostgreSQL" : "RabbitMQ")}: {e.Message}");
            return ExitCodes.Unavailable;
        }
    }

    /// <summary>Prints <paramref name="value"/> as JSON, or as the table <paramref name="fill"/> builds.</summary>
    public static int Print<T>(string output, T value, Action<Table> fill, string caption)
    {
        if (output == "json")
        {
            Console.WriteLine(JsonSerializer.Serialize(value, Json));
            return ExitCodes.Ok;
        }

        CheckOutput(output);
        var table = new Table().Border(TableBorder.Rounded);
        fill(table);
        table.Caption(caption);
        AnsiConsole.Write(table);
        return ExitCodes.Ok;
    }

    public static void CheckOutput(string output)
    {
        if (output is not ("table" or "json"))
        {
            throw new UsageException($"--output must be table or json, not '{output}'");
        }
    }
}

/// <summary>A command line that parsed but makes no sense: exit code 2 with the reason.</summary>
public sealed class UsageException(string message) : Exception(message);
