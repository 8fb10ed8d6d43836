using System.CommandLine;
using System.Globalization;
using Geo.Events.Contracts.Api;
using Geo.Events.Core.Messaging;
using Geo.Events.Core.Secondaries;
using Spectre.Console;

namespace Geo.Events.Admin.Secondaries;

/// <summary>
/// <c>geo-admin backfill|verify &lt;secondary&gt;</c> and <c>geo-admin resync &lt;project&gt;</c>: leave a request for the
/// secondary (it picks it up with its next status report), then follow its progress until it finishes.
/// </summary>
public static class ReconcileCommands
{
    internal static readonly Option<string> Output = new("--output", "-o") { Description = "table (default) or json", DefaultValueFactory = _ => "table" };
    internal static readonly Option<bool> NoWait = new("--no-wait") { Description = "leave the request and return at once" };
    internal static readonly Option<string> Timeout = new("--timeout") { Description = "how long to follow the run before giving up (the run goes on)", DefaultValueFactory = _ => "6h" };

    public static IEnumerable<Command> Build()
    {
        var secondary = new Argument<string>("secondary") { Description = "the registered secondary's name" };
        var backfill = new Command("backfill", "sync everything the secondary lacks (compared by refs checksum), resumably, with progress") { secondary, NoWait, Timeout, Output };
        backfill.SetAction((parse, ct) => Cli.Run(ctx => RequestAsync(ctx, ReconcileKind.Backfill, [parse.GetValue(secondary)!], null, parse, ct)));

        var verify = new Command("verify", "compare every mirror with the primary by refs checksum and repair the ones that differ") { secondary, NoWait, Timeout, Output };
        verify.SetAction((parse, ct) => Cli.Run(ctx => RequestAsync(ctx, ReconcileKind.Verify, [parse.GetValue(secondary)!], null, parse, ct)));

        var project = new Argument<string>("project") { Description = "the project's id, or its path with namespace" };
        var only = new Option<string?>("--secondary") { Description = "only this secondary (default: every registered one)" };
        var resync = new Command("resync", "fetch one project again on the secondaries, whatever their registry says") { project, only, NoWait, Timeout, Output };
        resync.SetAction((parse, ct) => Cli.Run(async ctx =>
        {
            var id = await ResolveProjectAsync(ctx, parse.GetValue(project)!, ct);
            var names = parse.GetValue(only) is { } one ? [one] : await RegisteredAsync(ctx, ct);
            return await RequestAsync(ctx, ReconcileKind.Resync, names, id, parse, ct);
        }));

        return [backfill, verify, resync];
    }

    /// <summary>Leaves the request with each secondary and, unless --no-wait, follows its run until it finished.</summary>
    internal static async Task<int> RequestAsync(AdminContext context, string kind, IReadOnlyList<string> secondaries, long? projectId, ParseResult parse, CancellationToken ct, string? argument = null)
    {
        var output = parse.GetValue(Output)!;
        Cli.CheckOutput(output);
        var timeout = SecondaryCommands.Duration(parse.GetValue(Timeout)!, "--timeout");
        if (secondaries.Count == 0)
        {
            await Console.Error.WriteLineAsync("geo-admin: no secondary is registered");
            return ExitCodes.NotFound;
        }

        var requests = new Dictionary<string, long>();
        var store = new SecondaryStore(context.DataSource);
        foreach (var name in secondaries)
        {
            // Through the admin API the request is recorded with the token's name; directly, with GEO_ADMIN_ACTOR or user@host.
            var requested = context.Api is { } api
                ? await api.RequestAsync(name, kind, projectId, ct, argument)
                : await store.RequestAsync(name, kind, projectId, AdminContext.Actor, ct, argument);
            if (requested is not { } id)
            {
                await Console.Error.WriteLineAsync($"geo-admin: no secondary named '{name}' is registered");
                return ExitCodes.NotFound;
            }

            requests[name] = id;
        }

        if (parse.GetValue(NoWait))
        {
            PrintOutcome(output, kind, requests.ToDictionary(r => r.Key, r => (r.Value, (ReconcileRunStatus?)null)), waited: false);
            return ExitCodes.Ok;
        }

        var deadline = DateTime.UtcNow + timeout;
        var results = new Dictionary<string, (long Request, ReconcileRunStatus? Progress)>();
        async Task<bool> PollAsync(Action<string, ReconcileRunStatus?> show)
        {
            foreach (var (name, request) in requests)
            {
                var progress = await ProgressAsync(context, name, request, ct);
                results[name] = (request, progress);
                show(name, progress);
            }

            return results.Values.All(r => r.Progress?.State == ReconcileRunState.Finished);
        }

        var finished = false;
        if (output == "table" && !Console.IsOutputRedirected)
        {
            await AnsiConsole.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                .StartAsync(async ui =>
                {
                    var bars = requests.Keys.ToDictionary(n => n, n => ui.AddTask($"{kind} {n}: waiting for the secondary", maxValue: 1));
                    while (!(finished = await PollAsync((name, p) =>
                           {
                               if (p is not null)
                               {
                                   bars[name].MaxValue = Math.Max(1, p.Total);
                                   bars[name].Value = p.State == ReconcileRunState.Finished ? bars[name].MaxValue : p.Done;
                                   bars[name].Description = $"{kind} {name}: {p.Done}/{p.Total}, {p.Repaired} repaired, {p.Failed} failed";
                               }
                           })) && DateTime.UtcNow < deadline)
                    {
                        await Task.Delay(TimeSpan.FromSeconds(1), ct);
                    }
                });
        }
        else
        {
            while (!(finished = await PollAsync((_, _) => { })) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(TimeSpan.FromSeconds(1), ct);
            }
        }

        PrintOutcome(output, kind, results, waited: true);
        if (!finished)
        {
            await Console.Error.WriteLineAsync($"geo-admin: gave up following after {parse.GetValue(Timeout)}; the {kind} goes on (see geo-admin secondaries show)");
            return ExitCodes.PartialFailure;
        }

        return results.Values.All(r => r.Progress!.Failed == 0) ? ExitCodes.Ok : ExitCodes.PartialFailure;
    }

    /// <summary>The run's figures: the outcome its closed request kept, else the secondary's last status report.</summary>
    private static Task<ReconcileRunStatus?> ProgressAsync(AdminContext context, string name, long request, CancellationToken ct) =>
        context.Api is { } api ? api.RequestProgressAsync(request, ct) : new SecondaryStore(context.DataSource).RequestProgressAsync(request, ct);

    private static void PrintOutcome(string output, string kind, IReadOnlyDictionary<string, (long Request, ReconcileRunStatus? Progress)> results, bool waited)
    {
        var rows = results.Select(r => new
        {
            Secondary = r.Key,
            r.Value.Request,
            Kind = kind,
            State = r.Value.Progress?.State ?? (waited ? "not started" : "requested"),
            r.Value.Progress?.Total,
            r.Value.Progress?.Done,
            r.Value.Progress?.Matched,
            r.Value.Progress?.Repaired,
            r.Value.Progress?.Failed,
            r.Value.Progress?.Error,
        }).ToList();
        Cli.Print(output, rows, table =>
        {
            table.AddColumns("secondary", "request", "state", "compared", "matched", "repaired", "failed", "note");
            foreach (var r in rows)
            {
                table.AddRow(r.Secondary, r.Request.ToString(CultureInfo.InvariantCulture), r.State, $"{r.Done ?? 0}/{r.Total ?? 0}",
                    $"{r.Matched ?? 0}", $"{r.Repaired ?? 0}", $"{r.Failed ?? 0}", Markup.Escape(r.Error ?? ""));
            }
        }, waited ? $"{kind} finished" : $"{kind} requested; the secondaries pick it up with their next status report");
    }

    private static async Task<IReadOnlyList<string>> RegisteredAsync(AdminContext context, CancellationToken ct) =>
        context.Api is { } api
            ? (await api.StatusAsync(TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(2), ct)).Secondaries.Select(s => s.Name).ToList()
            : await new SecondaryStore(context.DataSource).NamesAsync(ct);

    /// <summary>An id as given, or the project whose latest event names this path.</summary>
    internal static async Task<long> ResolveProjectAsync(AdminContext context, string project, CancellationToken ct)
    {
        if (long.TryParse(project, NumberStyles.None, CultureInfo.InvariantCulture, out var id) && id > 0)
        {
            return id;
        }

        if (Core.Paths.ProjectPath.Problem(project) is { } problem)
        {
            throw new UsageException($"'{project}' is neither a project id nor a valid project path: it {problem}");
        }

        return await (context.Api is { } api ? api.ProjectAtAsync(project, ct) : new Core.Outbox.EventLog(context.DataSource).ProjectAtAsync(project, ct))
            ?? throw new UsageException($"geo-primary has seen no project at '{project}'; give its id instead");
    }
}
