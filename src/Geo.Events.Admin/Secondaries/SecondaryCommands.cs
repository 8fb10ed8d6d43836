using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Geo.Events.Contracts.Api;
using Geo.Events.Core.DeadLetters;
using Geo.Events.Core.Messaging;
using Geo.Events.Core.Secondaries;
using RabbitMQ.Client;
using Spectre.Console;

namespace Geo.Events.Admin.Secondaries;

/// <summary><c>geo-admin secondaries list|show|remove</c> and <c>geo-admin status</c>.</summary>
public static class SecondaryCommands
{
    private static readonly Option<string> Output = new("--output", "-o") { Description = "table (default) or json", DefaultValueFactory = _ => "table" };

    public static IEnumerable<Command> Build()
    {
        var secondaries = new Command("secondaries", "registered secondaries: list, show, remove");

        var list = new Command("list", "every registered secondary with its last heartbeat") { Output };
        list.SetAction((parse, ct) => Cli.Run(ctx => ListAsync(ctx, parse.GetValue(Output)!, ct)));

        var name = new Argument<string>("name") { Description = "the secondary's name" };
        var show = new Command("show", "one secondary: registration, last status report, queue depth") { name, Output };
        show.SetAction((parse, ct) => Cli.Run(ctx => ShowAsync(ctx, parse.GetValue(name)!, parse.GetValue(Output)!, ct)));

        var remove = new Command("remove", "revoke a secondary's token and delete its queues (its undelivered events go with them)") { name };
        remove.SetAction((parse, ct) => Cli.Run(ctx => RemoveAsync(ctx, parse.GetValue(name)!, ct)));

        secondaries.Subcommands.Add(list);
        secondaries.Subcommands.Add(show);
        secondaries.Subcommands.Add(remove);

        var maxLag = new Option<string>("--max-lag") { Description = "a secondary whose oldest unapplied event is older than this is 'behind'", DefaultValueFactory = _ => "5m" };
        var stale = new Option<string>("--stale") { Description = "a secondary silent for longer than this is 'stale'", DefaultValueFactory = _ => "2m" };
        var status = new Command("status", "one row per secondary: lag, queue, synced/pending/failed; exit code 5 unless every one is ok")
        {
            maxLag, stale, Output,
        };
        status.SetAction((parse, ct) => Cli.Run(ctx => StatusAsync(ctx, Duration(parse.GetValue(maxLag)!, "--max-lag"), Duration(parse.GetValue(stale)!, "--stale"), parse.GetValue(Output)!, ct)));

        return [secondaries, status];
    }

    private static async Task<int> ListAsync(AdminContext context, string output, CancellationToken ct)
    {
        Cli.CheckOutput(output);
        var rows = context.Api is { } api ? await api.SecondariesAsync(ct) : await SecondaryRemoval.ListAsync(context.DataSource, null, null, ct);
        return Cli.Print(output, rows.Select(r => new { r.Name, r.Url, r.Namespaces, r.RegisteredAt, r.LastHeartbeatAt }).ToList(), table =>
        {
            table.AddColumns("name", "url", "namespaces", "registered", "last heartbeat");
            foreach (var r in rows)
            {
                table.AddRow(r.Name, Markup.Escape(r.Url ?? "-"), Markup.Escape(r.Namespaces.Count == 0 ? "(all)" : string.Join(", ", r.Namespaces)),
                    $"{r.RegisteredAt:u}", r.HeartbeatAgeSeconds is { } age ? $"{Age(age)} ago" : "never");
            }
        }, $"{rows.Count} registered secondaries");
    }

    private static async Task<int> ShowAsync(AdminContext context, string name, string output, CancellationToken ct)
    {
        Cli.CheckOutput(output);
        var row = context.Api is { } api
            ? await api.SecondaryAsync(name, ct)
            : (await SecondaryRemoval.ListAsync(context.DataSource, context.Rabbit, name, ct)).SingleOrDefault();
        if (row is null)
        {
            await Console.Error.WriteLineAsync($"geo-admin: no secondary named '{name}' is registered");
            return ExitCodes.NotFound;
        }

        var shown = new
        {
            row.Name,
            row.Url,
            row.Namespaces,
            row.RegisteredAt,
            row.LastHeartbeatAt,
            Queue = GeoTopology.QueueName(name),
            row.Queued,
            Status = row.Status is null ? (JsonElement?)null : JsonDocument.Parse(row.Status).RootElement,
        };
        if (output == "json")
        {
            Console.WriteLine(JsonSerializer.Serialize(shown, Cli.Json));
            return ExitCodes.Ok;
        }

        var grid = new Grid().AddColumn().AddColumn();
        void Line(string label, object? value) => grid.AddRow(new Text(label, new Style(decoration: Decoration.Bold)), new Text(value?.ToString() ?? "-"));
        Line("name", row.Name);
        Line("url", row.Url);
        Line("namespaces", row.Namespaces.Count == 0 ? "(all)" : string.Join(", ", row.Namespaces));
        Line("registered", $"{row.RegisteredAt:u}");
        Line("last heartbeat", row.HeartbeatAgeSeconds is { } age ? $"{row.LastHeartbeatAt:u} ({Age(age)} ago)" : "never");
        Line("queue", $"{shown.Queue} ({(row.Queued is { } q ? q.ToString(CultureInfo.InvariantCulture) : "missing")} waiting)");
        AnsiConsole.Write(grid);
        AnsiConsole.Write(new Rule("last status report").LeftJustified());
        AnsiConsole.WriteLine(row.Status is null ? "-" : JsonSerializer.Serialize(shown.Status, Cli.Json));
        return ExitCodes.Ok;
    }

    private static async Task<int> RemoveAsync(AdminContext context, string name, CancellationToken ct)
    {
        if (GeoTopology.SecondaryNameProblem(name) is { } problem)
        {
            throw new UsageException(problem);
        }

        var removed = context.Api is { } api
            ? await api.RemoveSecondaryAsync(name, ct)
            : await new SecondaryRemoval(context.DataSource, context.Rabbit).RemoveAsync(name, AdminContext.Actor, ct);
        if (removed is null)
        {
            await Console.Error.WriteLineAsync($"geo-admin: no secondary named '{name}' is registered");
            return ExitCodes.NotFound;
        }

        Console.WriteLine($"removed secondary {name}: token revoked, queues deleted ({removed.Dropped} undelivered messages dropped)");
        return ExitCodes.Ok;
    }

    private static async Task<int> StatusAsync(AdminContext context, TimeSpan maxLag, TimeSpan stale, string output, CancellationToken ct)
    {
        Cli.CheckOutput(output);
        var (health, primarySequence) = context.Api is { } api
            ? await api.StatusAsync(maxLag, stale, ct)
            : await SecondaryHealthCheck.CollectAsync(context.DataSource, context.Rabbit, maxLag, stale, null, ct);
        Cli.Print(output, health, table =>
        {
            table.AddColumns("secondary", "verdict", "heartbeat", "queued", "unapplied", "oldest unapplied", "synced", "pending", "failed", "differs", "dead letters", "served", "why");
            foreach (var h in health)
            {
                var color = h.Verdict == "ok" ? "green" : "red";
                table.AddRow(h.Name, $"[{color}]{h.Verdict}[/]", h.HeartbeatAgeSeconds is { } age ? $"{Age(age)} ago" : "never",
                    h.Queued?.ToString(CultureInfo.InvariantCulture) ?? "no queue", Count(h.Unapplied), h.OldestPendingSeconds is { } oldest ? Age(oldest) : "-",
                    Count(h.Synced), Count(h.Pending), Count(h.Failed), Differs(h), Count(h.DeadLetters), Served(h), Markup.Escape(h.Reason));
            }
        }, $"{health.Count} secondaries; primary at event {primarySequence}");
        return health.All(h => h.Verdict == "ok") ? ExitCodes.Ok : ExitCodes.Unhealthy;
    }

    public static TimeSpan Duration(string text, string option)
    {
        try
        {
            return Durations.Parse(text);
        }
        catch (FormatException e)
        {
            throw new UsageException($"{option}: {e.Message}");
        }
    }

    private static string Count(long n) => n.ToString(CultureInfo.InvariantCulture);

    /// <summary>Mirrors that differ from the primary's last scan, per repository type (only the types with any): "0" when none, "-" when unknown.</summary>
    private static string Differs(SecondaryHealth h) => h.Differs is not { } differs ? "-"
        : differs.Values.Sum() == 0 ? "0"
        : Markup.Escape(string.Join(", ", differs.Where(d => d.Value > 0).Select(d => $"{d.Key} {d.Value}")));

    /// <summary>Clones at the site since its instance started: served from the mirror, sent to the primary; "-" when unknown.</summary>
    private static string Served(SecondaryHealth h) => h.Serving is not { } s ? "-"
        : string.Create(CultureInfo.InvariantCulture, $"{s.ServedLocally} local, {s.Redirected} to primary");

    private static string Age(double seconds) => SecondaryHealthCheck.Age(seconds);
}
