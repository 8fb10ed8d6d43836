using System.Text.Json;
using Geo.Events.Core.DeadLetters;
using RabbitMQ.Client;
using Spectre.Console;

namespace Geo.Events.Admin.DeadLetters;

/// <summary>
/// Replays dead letters one by one: publish to the original queue (mandatory, persistent) and wait for the
/// broker's confirm, and only then mark the dead letter replayed and record it. A kill at any instant loses
/// nothing: at worst the message being replayed is published again by the next replay, and consumers
/// absorb the duplicate.
/// </summary>
public sealed class DeadLetterReplay(AdminContext context)
{
    public const string BatchHeader = Contracts.GeoHeaders.ReplayBatch;

    public async Task<int> RunAsync(DeadLetterFilter filter, bool dryRun, string output, CancellationToken ct)
    {
        var store = new DeadLetterStore(context.DataSource);
        var letters = await store.FindAsync(filter, ct);
        if (dryRun || letters.Count == 0)
        {
            Report(output, null, dryRun, letters.Select(l => l.Id).ToList(), [], letters.Count == 0 ? "nothing to replay" : $"would replay {letters.Count} dead letters");
            return ExitCodes.Ok;
        }

        var batch = Guid.CreateVersion7();
        var replayed = new List<long>();
        var failed = new List<long>();
        await using var connection = await context.Rabbit.ConnectionFactory("geo-admin dlq replay").CreateConnectionAsync(ct);
        await using var channel = await connection.CreateChannelAsync(
            new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true), ct);

        async Task ReplayAllAsync(Action advance)
        {
            foreach (var letter in letters)
            {
                try
                {
                    var properties = AmqpMessage.ForReplay(letter.Properties, letter.Headers, new Dictionary<string, object?> { [BatchHeader] = batch.ToString() });
                    // With confirmation tracking this returns once the broker confirmed, and throws if it refused
                    // or could not route the message (mandatory: the original queue is gone).
                    await channel.BasicPublishAsync("", letter.OriginalQueue, mandatory: true, properties, letter.Body, ct);
                    await store.RecordAsync(letter.Id, DeadLetterAction.Replay, DeadLetterState.Replayed, batch, AdminContext.Actor, "replayed", null, ct);
                    replayed.Add(letter.Id);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    await store.RecordAsync(letter.Id, DeadLetterAction.Replay, null, batch, AdminContext.Actor, "failed", e.Message, ct);
                    failed.Add(letter.Id);
                    await Console.Error.WriteLineAsync($"geo-admin: dead letter {letter.Id} was not replayed: {e.Message}");
                }

                advance();
            }
        }

        if (output == "table" && !Console.IsOutputRedirected)
        {
            await AnsiConsole.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                .StartAsync(async progress =>
                {
                    var task = progress.AddTask($"replaying {letters.Count}", maxValue: letters.Count);
                    await ReplayAllAsync(() => task.Increment(1));
                });
        }
        else
        {
            await ReplayAllAsync(() => { });
        }

        Report(output, batch, dryRun: false, replayed, failed, $"replayed {replayed.Count} of {letters.Count} dead letters (batch {batch})");
        return failed.Count == 0 ? ExitCodes.Ok : ExitCodes.PartialFailure;
    }

    private static void Report(string output, Guid? batch, bool dryRun, IReadOnlyList<long> ids, IReadOnlyList<long> failed, string text)
    {
        if (output == "json")
        {
            Console.WriteLine(JsonSerializer.Serialize(new { batch, dryRun, replayed = dryRun ? [] : ids, wouldReplay = dryRun ? ids : [], failed },
                new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true }));
        }
        else
        {
            Console.WriteLine(dryRun && ids.Count > 0 ? $"{text}: {string.Join(' ', ids)}" : text);
        }
    }
}
