using System.Text.Json;
using Geo.Events.Contracts.Api;
using Geo.Events.Core.DeadLetters;
using Spectre.Console;

namespace Geo.Events.Admin.DeadLetters;

/// <summary>
/// <c>geo-admin dlq replay</c>: through geo-primary's admin API when it has <c>--url</c>, else on the database and
/// broker itself (<see cref="DeadLetterActions.ReplayAsync"/>, with a progress bar on a terminal).
/// </summary>
public sealed class DeadLetterReplay(AdminContext context)
{
    public async Task<int> RunAsync(DeadLetterFilter filter, bool all, bool force, bool dryRun, string output, CancellationToken ct)
    {
        Cli.CheckOutput(output);
        DeadLetterOutcome outcome;
        if (context.Api is { } api)
        {
            outcome = await api.DeadLetterActionAsync("replay", filter, all, dryRun, force, ct);
        }
        else
        {
            var actions = new DeadLetterActions(context.DataSource, context.Rabbit);
            if (output == "table" && !Console.IsOutputRedirected && !dryRun)
            {
                outcome = null!;
                await AnsiConsole.Progress()
                    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                    .StartAsync(async progress =>
                    {
                        ProgressTask? task = null;
                        outcome = await actions.ReplayAsync(filter, dryRun, AdminContext.Actor, ct,
                            count => task = progress.AddTask($"replaying {count}", maxValue: count), () => task?.Increment(1));
                    });
            }
            else
            {
                outcome = await actions.ReplayAsync(filter, dryRun, AdminContext.Actor, ct);
            }
        }

        foreach (var (id, why) in outcome.Failed)
        {
            await Console.Error.WriteLineAsync($"geo-admin: dead letter {id} was not replayed: {why}");
        }

        var total = outcome.Ids.Count + outcome.Failed.Count;
        if (output == "json")
        {
            Console.WriteLine(JsonSerializer.Serialize(
                new
                {
                    batch = outcome.Batch,
                    dryRun,
                    replayed = dryRun ? [] : outcome.Ids,
                    wouldReplay = dryRun ? outcome.Ids : [],
                    failed = outcome.Failed.Keys.Order().ToList(),
                },
                new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true }));
        }
        else if (total == 0)
        {
            Console.WriteLine("nothing to replay");
        }
        else
        {
            Console.WriteLine(dryRun
                ? $"would replay {total} dead letters: {string.Join(' ', outcome.Ids)}"
                : $"replayed {outcome.Ids.Count} of {total} dead letters (batch {outcome.Batch})");
        }

        return outcome.Failed.Count == 0 ? ExitCodes.Ok : ExitCodes.PartialFailure;
    }
}
