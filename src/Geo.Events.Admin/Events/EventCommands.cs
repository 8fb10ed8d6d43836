using System.CommandLine;
using Geo.Events.Core.Outbox;
using Spectre.Console;

namespace Geo.Events.Admin.Events;

/// <summary>
/// <c>geo-admin events</c>: the newest recorded events with their origin (the GitLab instance that sent the hook, from
/// its X-Gitlab-Instance header, or geo-primary's storage watcher), the hook's X-Gitlab-Event and its delivery id.
/// </summary>
public static class EventCommands
{
    public static Command Build()
    {
        var limit = new Option<int>("--limit") { Description = "how many of the newest events", DefaultValueFactory = _ => 50 };
        var project = new Option<long?>("--project") { Description = "only this project id's events" };
        var output = new Option<string>("--output", "-o") { Description = "table (default) or json", DefaultValueFactory = _ => "table" };
        var events = new Command("events", "the newest recorded events: type, subject, origin (GitLab instance or storage watcher), delivery id, published")
        {
            limit, project, output,
        };
        events.SetAction((parse, ct) => Cli.Run(ctx => ListAsync(ctx, parse.GetValue(limit), parse.GetValue(project), parse.GetValue(output)!, ct)));
        return events;
    }

    private static async Task<int> ListAsync(AdminContext context, int limit, long? project, string output, CancellationToken ct)
    {
        Cli.CheckOutput(output);
        if (limit is < 1 or > 10_000)
        {
            throw new UsageException("--limit must be between 1 and 10000");
        }

        var rows = context.Api is { } api ? await api.EventsAsync(limit, project, ct) : await new EventLog(context.DataSource).RecentAsync(limit, project, ct);
        return Cli.Print(output, rows, table =>
        {
            table.AddColumns("seq", "received", "type", "project", "subject", "origin", "hook", "delivery id", "published");
            foreach (var r in rows)
            {
                table.AddRow(
                    r.Sequence.ToString(System.Globalization.CultureInfo.InvariantCulture), $"{r.ReceivedAt:u}", r.Type,
                    r.ProjectId?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-", Markup.Escape(r.Subject ?? "-"),
                    Markup.Escape(r.Origin ?? "(before origins were recorded)"), Markup.Escape(r.GitLabEvent ?? "-"),
                    Markup.Escape(r.DeliveryId ?? "-"), r.PublishedAt is { } at ? $"{at:u}" : "not yet");
            }
        }, $"{rows.Count} newest events");
    }
}
