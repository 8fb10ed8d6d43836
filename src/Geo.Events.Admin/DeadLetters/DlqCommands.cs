using System.CommandLine;
using System.Text.Json;
using Geo.Events.Contracts.Api;
using Geo.Events.Core.DeadLetters;
using Spectre.Console;

namespace Geo.Events.Admin.DeadLetters;

/// <summary><c>geo-admin dlq …</c>: failed events, grouped by cause, shown, replayed, archived and restored.</summary>
public static class DlqCommands
{
    private static readonly JsonSerializerOptions Json = Cli.Json;

    private static readonly Option<string?> Secondary = new("--secondary") { Description = "only this secondary's dead letters" };
    private static readonly Option<string?> Type = new("--type") { Description = "only this event type (RepositoryChanged, SshKeyCreated, …)" };
    private static readonly Option<string?> Project = new("--project") { Description = "only this project (path with namespace, or id)" };
    private static readonly Option<string?> Exception = new("--exception") { Description = "only failures whose exception type or message contains this text" };
    private static readonly Option<string?> Since = new("--since") { Description = "only failures since this time (2026-11-25T10:00Z) or this long ago (30m, 2h, 7d)" };
    private static readonly Option<string?> Group = new("--group") { Description = "only this group (the id dlq list shows)" };
    private static readonly Option<string> State = new("--state") { Description = "failed (default), replayed, archived or all", DefaultValueFactory = _ => DeadLetterState.Failed };
    private static readonly Option<string> Output = new("--output", "-o") { Description = "table (default) or json", DefaultValueFactory = _ => "table" };
    private static readonly Option<bool> DryRun = new("--dry-run") { Description = "say what would be done, do nothing" };
    private static readonly Option<bool> All = new("--all") { Description = "every dead letter the other filters select (required when no id, group or filter is given)" };
    private static readonly Argument<long[]> Ids = new("id") { Description = "dead letter ids", Arity = ArgumentArity.ZeroOrMore };

    public static Command Build()
    {
        var dlq = new Command("dlq", "dead-lettered events: list, show, replay, history, delete, restore");

        var messages = new Option<bool>("--messages") { Description = "one row per dead letter instead of one per group" };
        var list = new Command("list", "failures grouped by cause (exception type, message and event type), with counts")
        {
            Secondary, Type, Project, Exception, Since, Group, State, Output, messages,
        };
        list.SetAction((parse, ct) => Cli.Run(ctx => ListAsync(ctx, Filter(parse), parse.GetValue(Output)!, parse.GetValue(messages), ct)));

        var showId = new Argument<long>("id") { Description = "the dead letter's id" };
        var show = new Command("show", "one dead letter: headers, body, exception, stack trace, retry count, original queue") { showId, Output };
        show.SetAction((parse, ct) => Cli.Run(ctx => ShowAsync(ctx, parse.GetValue(showId), parse.GetValue(Output)!, ct)));

        var force = new Option<bool>("--force") { Description = "replay dead letters that were replayed already" };
        var replay = new Command("replay", "republish to the original queue with publisher confirms, then mark replayed")
        {
            Ids, Secondary, Type, Project, Exception, Since, Group, DryRun, All, force, Output,
        };
        replay.SetAction((parse, ct) => Cli.Run(ctx => new DeadLetterReplay(ctx).RunAsync(
            Selection(parse, DeadLetterActions.StateFor(DeadLetterAction.Replay, parse.GetValue(force))), parse.GetValue(All), parse.GetValue(force), parse.GetValue(DryRun), parse.GetValue(Output)!, ct)));

        var limit = new Option<int>("--limit") { Description = "how many batches", DefaultValueFactory = _ => 20 };
        var history = new Command("history", "replays, deletes and restores: who, when, how many, with what outcome") { limit, Output };
        history.SetAction((parse, ct) => Cli.Run(ctx => HistoryAsync(ctx, parse.GetValue(limit), parse.GetValue(Output)!, ct)));

        var delete = new Command("delete", "move dead letters into the archive (kept for Primary:DeadLetterArchiveRetention, then purged)")
        {
            Ids, Secondary, Type, Project, Exception, Since, Group, DryRun, All, Output,
        };
        delete.SetAction((parse, ct) => Cli.Run(ctx => ChangeStateAsync(ctx, DeadLetterAction.Archive, Selection(parse, DeadLetterState.Failed), parse.GetValue(All), parse.GetValue(DryRun), parse.GetValue(Output)!, ct)));

        var restore = new Command("restore", "bring archived dead letters back to failed")
        {
            Ids, Secondary, Type, Project, Exception, Since, Group, DryRun, All, Output,
        };
        restore.SetAction((parse, ct) => Cli.Run(ctx => ChangeStateAsync(ctx, DeadLetterAction.Restore, Selection(parse, DeadLetterState.Archived), parse.GetValue(All), parse.GetValue(DryRun), parse.GetValue(Output)!, ct)));

        foreach (var command in new[] { list, show, replay, history, delete, restore })
        {
            dlq.Subcommands.Add(command);
        }

        return dlq;
    }

    /// <summary>The filters every dlq command shares.</summary>
    private static DeadLetterFilter Filters(ParseResult parse) => new()
    {
        Secondary = parse.GetValue(Secondary),
        MessageType = parse.GetValue(Type),
        Project = parse.GetValue(Project),
        Exception = parse.GetValue(Exception),
        Group = parse.GetValue(Group),
        Since = ParseSince(parse.GetValue(Since)),
    };

    private static DeadLetterFilter Filter(ParseResult parse)
    {
        var state = parse.GetValue(State)!;
        if (state is not (DeadLetterState.Failed or DeadLetterState.Replayed or DeadLetterState.Archived or "all"))
        {
            throw new UsageException($"--state must be failed, replayed, archived or all, not '{state}'");
        }

        return Filters(parse) with { State = state == "all" ? null : state };
    }

    /// <summary>What a replay, delete or restore acts on; refuses an unbounded selection unless --all says so.</summary>
    private static DeadLetterFilter Selection(ParseResult parse, string? state)
    {
        var filter = Filters(parse) with { Ids = parse.GetValue(Ids) ?? [], State = state };
        if (!filter.IsBounded && !parse.GetValue(All))
        {
            throw new UsageException("name dead letter ids, a --group or a filter (--secondary, --type, --project, --exception, --since), or say --all");
        }

        return filter;
    }

    private static DateTimeOffset? ParseSince(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        if (text.EndsWith('d') && int.TryParse(text[..^1], out var days))
        {
            return DateTimeOffset.UtcNow.AddDays(-days);
        }

        try
        {
            return DateTimeOffset.UtcNow - Core.Messaging.Durations.Parse(text);
        }
        catch (FormatException)
        {
            return DateTimeOffset.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var at)
                ? at
                : throw new UsageException($"--since '{text}' is neither a time (2026-11-25T10:00Z) nor a duration (30m, 2h, 7d)");
        }
    }

    public sealed record GroupSummary(string Group, long Count, string? EventType, string? ExceptionType, string? ExceptionMessage,
        string Reason, IReadOnlyList<string> Secondaries, DateTimeOffset FirstSeen, DateTimeOffset LastSeen, IReadOnlyList<string> ExampleProjects, IReadOnlyList<long> Ids);

    private static async Task<int> ListAsync(AdminContext context, DeadLetterFilter filter, string output, bool messages, CancellationToken ct)
    {
        Cli.CheckOutput(output);
        var letters = context.Api is { } api ? await api.DeadLettersAsync(filter, ct) : await new DeadLetterStore(context.DataSource).FindAsync(filter, ct);
        if (messages)
        {
            return Cli.Print(output, letters.Select(l => new
            {
                l.Id,
                l.Secondary,
                l.State,
                l.GroupId,
                EventType = l.MessageType,
                Project = l.ProjectPath ?? l.KeyId?.ToString(System.Globalization.CultureInfo.InvariantCulture),
                l.ExceptionType,
                l.ExceptionMessage,
                At = l.FaultedAt ?? l.IngestedAt,
            }).ToList(), table =>
            {
                table.AddColumns("id", "secondary", "state", "group", "event", "project / key", "exception", "at");
                foreach (var l in letters)
                {
                    table.AddRow(l.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), l.Secondary, l.State, l.GroupId, l.MessageType ?? "?",
                        Markup.Escape(l.ProjectPath ?? l.KeyId?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? ""),
                        Markup.Escape(Short($"{ShortType(l.ExceptionType)}: {l.ExceptionMessage}", 70)), $"{l.FaultedAt ?? l.IngestedAt:u}");
                }
            }, $"{letters.Count} dead letters");
        }

        var groups = letters.GroupBy(l => l.GroupId).Select(g => new GroupSummary(
                g.Key, g.Count(), g.First().MessageType, g.First().ExceptionType, g.First().ExceptionMessage, g.First().Reason,
                g.Select(l => l.Secondary).Distinct().Order().ToList(),
                g.Min(l => l.FaultedAt ?? l.IngestedAt), g.Max(l => l.FaultedAt ?? l.IngestedAt),
                g.Select(l => l.ProjectPath ?? (l.KeyId is { } key ? $"key {key}" : null)).OfType<string>().Distinct().Take(3).ToList(),
                g.Select(l => l.Id).ToList()))
            .OrderByDescending(g => g.Count).ToList();
        return Cli.Print(output, groups, table =>
        {
            table.AddColumns("group", "count", "event", "cause", "secondaries", "first seen", "last seen", "examples");
            foreach (var g in groups)
            {
                table.AddRow(g.Group, g.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), g.EventType ?? "?",
                    Markup.Escape(Short($"{ShortType(g.ExceptionType)}: {g.ExceptionMessage}", 60)), string.Join(", ", g.Secondaries),
                    $"{g.FirstSeen:u}", $"{g.LastSeen:u}", Markup.Escape(string.Join(", ", g.ExampleProjects)));
            }
        }, $"{letters.Count} dead letters in {groups.Count} groups");
    }

    private static async Task<int> ShowAsync(AdminContext context, long id, string output, CancellationToken ct)
    {
        Cli.CheckOutput(output);
        var letter = context.Api is { } api ? await api.DeadLetterAsync(id, ct) : await new DeadLetterStore(context.DataSource).GetAsync(id, ct);
        if (letter is null)
        {
            await Console.Error.WriteLineAsync($"geo-admin: no dead letter {id}");
            return ExitCodes.NotFound;
        }

        var body = System.Text.Encoding.UTF8.GetString(letter.Body);
        var shown = new
        {
            letter.Id,
            letter.State,
            letter.Secondary,
            letter.Reason,
            letter.OriginalQueue,
            letter.SourceQueue,
            letter.GroupId,
            letter.MessageId,
            EventType = letter.MessageType,
            letter.ProjectId,
            letter.ProjectPath,
            letter.KeyId,
            letter.ExceptionType,
            letter.ExceptionMessage,
            letter.StackTrace,
            letter.RetryCount,
            letter.RedeliveryCount,
            letter.FaultedAt,
            letter.IngestedAt,
            letter.ReplayedAt,
            letter.ArchivedAt,
            Properties = JsonDocument.Parse(letter.Properties).RootElement,
            Headers = JsonDocument.Parse(letter.Headers).RootElement,
            Body = TryJson(body),
        };
        if (output == "json")
        {
            Console.WriteLine(JsonSerializer.Serialize(shown, Json));
            return ExitCodes.Ok;
        }

        var grid = new Grid().AddColumn().AddColumn();
        void Row(string name, object? value) => grid.AddRow(new Text(name, new Style(decoration: Decoration.Bold)), new Text(value?.ToString() ?? "-"));
        Row("id", letter.Id);
        Row("state", letter.State);
        Row("secondary", letter.Secondary);
        Row("original queue", letter.OriginalQueue);
        Row("reason", letter.Reason);
        Row("group", letter.GroupId);
        Row("event", letter.MessageType);
        Row("message id", letter.MessageId);
        Row("project", letter.ProjectPath ?? letter.ProjectId?.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Row("key", letter.KeyId);
        Row("exception", $"{letter.ExceptionType}: {letter.ExceptionMessage}");
        Row("retries", $"{letter.RetryCount ?? 0} in process, {letter.RedeliveryCount ?? 0} redeliveries");
        Row("failed at", letter.FaultedAt);
        Row("replayed at", letter.ReplayedAt);
        Row("archived at", letter.ArchivedAt);
        AnsiConsole.Write(grid);
        AnsiConsole.Write(new Rule("headers").LeftJustified());
        AnsiConsole.WriteLine(JsonSerializer.Serialize(JsonDocument.Parse(letter.Headers).RootElement, Json));
        AnsiConsole.Write(new Rule("body").LeftJustified());
        AnsiConsole.WriteLine(JsonSerializer.Serialize(TryJson(body), Json));
        AnsiConsole.Write(new Rule("stack trace").LeftJustified());
        AnsiConsole.WriteLine(letter.StackTrace ?? "-");
        return ExitCodes.Ok;
    }

    private static async Task<int> HistoryAsync(AdminContext context, int limit, string output, CancellationToken ct)
    {
        if (limit is < 1 or > 10_000)
        {
            throw new UsageException($"--limit must be from 1 to 10000, not {limit}");
        }

        var batches = context.Api is { } api ? await api.DeadLetterHistoryAsync(limit, ct) : await new DeadLetterStore(context.DataSource).HistoryAsync(limit, ct);
        return Cli.Print(output, batches, table =>
        {
            table.AddColumns("batch", "action", "who", "started", "ended", "count", "outcomes");
            foreach (var b in batches)
            {
                table.AddRow(b.BatchId.ToString(), b.Action, Markup.Escape(b.Actor), $"{b.StartedAt:u}", $"{b.EndedAt:u}",
                    b.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), Markup.Escape(b.Outcomes));
            }
        }, $"{batches.Count} batches");
    }

    private static async Task<int> ChangeStateAsync(AdminContext context, string action, DeadLetterFilter filter, bool all, bool dryRun, string output, CancellationToken ct)
    {
        Cli.CheckOutput(output);
        var outcome = context.Api is { } api
            ? await api.DeadLetterActionAsync(action == DeadLetterAction.Archive ? "delete" : "restore", filter, all, dryRun, force: false, ct)
            : await new DeadLetterActions(context.DataSource, context.Rabbit).ChangeStateAsync(action, filter, dryRun, AdminContext.Actor, ct);
        var verb = action == DeadLetterAction.Archive ? "archived" : "restored";
        var summary = new { outcome.Batch, DryRun = dryRun, Action = action, outcome.Ids };
        if (output == "json")
        {
            Console.WriteLine(JsonSerializer.Serialize(summary, Json));
        }
        else
        {
            Console.WriteLine(dryRun
                ? $"would have {verb} {outcome.Ids.Count} dead letters: {string.Join(' ', summary.Ids)}"
                : $"{verb} {outcome.Ids.Count} dead letters (batch {outcome.Batch})");
        }

        return ExitCodes.Ok;
    }

    private static object TryJson(string text)
    {
        try
        {
            return JsonDocument.Parse(text).RootElement;
        }
        catch (JsonException)
        {
            return text;
        }
    }

    private static string ShortType(string? type) => type?.Split('.')[^1] ?? "?";

    private static string Short(string text, int length) => text.Length <= length ? text : text[..(length - 1)] + "…";
}
