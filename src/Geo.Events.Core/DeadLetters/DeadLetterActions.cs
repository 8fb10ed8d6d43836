using Geo.Events.Contracts.Api;
using Geo.Events.Core.Messaging;
using Npgsql;
using RabbitMQ.Client;

namespace Geo.Events.Core.DeadLetters;

/// <summary>
/// Replay, archive and restore of dead letters, recorded in the audit history under one batch with who acted. Run
/// by geo-admin on the database and broker, or by geo-primary's admin API for a geo-admin that has neither.
/// </summary>
public sealed class DeadLetterActions(NpgsqlDataSource dataSource, RabbitMqOptions rabbit)
{
    public const string BatchHeader = Contracts.GeoHeaders.ReplayBatch;

    /// <summary>
    /// Replays one by one: publish to the original queue (mandatory, persistent) and wait for the broker's confirm,
    /// and only then mark the dead letter replayed and record it. A kill at any instant loses nothing: at worst the
    /// message being replayed is published again by the next replay, and consumers absorb the duplicate.
    /// </summary>
    /// <param name="starting">Told how many will be replayed, before the first.</param>
    /// <param name="advance">Told after each one, replayed or not.</param>
    public async Task<DeadLetterOutcome> ReplayAsync(DeadLetterFilter filter, bool dryRun, string actor, CancellationToken ct,
        Action<int>? starting = null, Action? advance = null)
    {
        var store = new DeadLetterStore(dataSource);
        var letters = await store.FindAsync(filter, ct);
        if (dryRun || letters.Count == 0)
        {
            return new DeadLetterOutcome { Action = DeadLetterAction.Replay, DryRun = dryRun, Ids = dryRun ? letters.Select(l => l.Id).ToList() : [] };
        }

        var batch = Guid.CreateVersion7();
        var replayed = new List<long>();
        var failed = new Dictionary<long, string>();
        await using var connection = await rabbit.ConnectAsync("geo dlq replay", ct);
        await using var channel = await connection.CreateChannelAsync(
            new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true), ct);
        starting?.Invoke(letters.Count);
        foreach (var letter in letters)
        {
            try
            {
                var properties = AmqpMessage.ForReplay(letter.Properties, letter.Headers, new Dictionary<string, object?> { [BatchHeader] = batch.ToString() });
                // With confirmation tracking this returns once the broker confirmed, and throws if it refused
                // or could not route the message (mandatory: the original queue is gone).
                await channel.BasicPublishAsync("", letter.OriginalQueue, mandatory: true, properties, letter.Body, ct);
                await store.RecordAsync(letter.Id, DeadLetterAction.Replay, DeadLetterState.Replayed, batch, actor, "replayed", null, ct);
                replayed.Add(letter.Id);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                await store.RecordAsync(letter.Id, DeadLetterAction.Replay, null, batch, actor, "failed", e.Message, ct);
                failed[letter.Id] = e.Message;
            }

            advance?.Invoke();
        }

        return new DeadLetterOutcome { Action = DeadLetterAction.Replay, Batch = batch, Ids = replayed, Failed = failed };
    }

    /// <summary>Archives (<see cref="DeadLetterAction.Archive"/>) or restores (<see cref="DeadLetterAction.Restore"/>) what the filter selects.</summary>
    public async Task<DeadLetterOutcome> ChangeStateAsync(string action, DeadLetterFilter filter, bool dryRun, string actor, CancellationToken ct)
    {
        var newState = action == DeadLetterAction.Archive ? DeadLetterState.Archived : DeadLetterState.Failed;
        var store = new DeadLetterStore(dataSource);
        var letters = await store.FindAsync(filter, ct);
        var batch = Guid.CreateVersion7();
        if (!dryRun)
        {
            foreach (var letter in letters)
            {
                await store.RecordAsync(letter.Id, action, newState, batch, actor, newState, null, ct);
            }
        }

        return new DeadLetterOutcome { Action = action, Batch = dryRun ? null : batch, DryRun = dryRun, Ids = letters.Select(l => l.Id).ToList() };
    }

    /// <summary>The state a replay, delete or restore acts on.</summary>
    public static string? StateFor(string action, bool force) => action switch
    {
        DeadLetterAction.Replay => force ? null : DeadLetterState.Failed,
        DeadLetterAction.Archive => DeadLetterState.Failed,
        _ => DeadLetterState.Archived,
    };
}
