using System.Text.Json;
using Geo.Events.Contracts;
using Geo.Events.Core.Messaging;
using Geo.Events.Core.Observability;
using Geo.Events.Core.Outbox;
using Geo.Events.Primary.Secondaries;
using MassTransit;
using Microsoft.Extensions.Options;

namespace Geo.Events.Primary.Outbox;

/// <summary>
/// Publishes committed events that are not yet published, and marks each one published only after the
/// broker confirmed it (MassTransit's RabbitMQ publish awaits the publisher confirm). A crash between the
/// two means the event is published again, never lost; secondaries absorb the duplicate. Only the instance that
/// holds the leader lease publishes, and it stops the moment it loses it: the next leader starts again from the
/// oldest unpublished event, so events leave in sequence order whichever instance accepted them.
/// </summary>
public sealed class OutboxDispatcher(
    EventLog eventLog,
    OutboxSignal signal,
    IBus bus,
    SecondaryQueues secondaryQueues,
    Leadership.LeaderLease lease,
    IOptions<PrimaryOptions> options,
    ILogger<OutboxDispatcher> logger) : BackgroundService
{
    private static readonly TimeSpan PublishTimeout = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan FirstBackoff = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Publishing before the secondaries' queues are bound would route events to nobody.
        await secondaryQueues.Declared.WaitAsync(stoppingToken);
        await WarmUpAsync(stoppingToken);
        await lease.RunWhileLeaderAsync("Outbox dispatch", DispatchAsync, stoppingToken);
    }

    /// <summary>
    /// Prepares the publish endpoint of every event type before this instance leads: a process's first publish of a
    /// type takes seconds (the exchange declared again, cold code), which a standby would otherwise add to a takeover.
    /// </summary>
    private async Task WarmUpAsync(CancellationToken stoppingToken)
    {
        try
        {
            await Task.WhenAll(GeoTopology.PublishEndpoints.Values.Select(prepare => prepare(bus))).WaitAsync(stoppingToken);
        }
        catch (Exception e) when (!stoppingToken.IsCancellationRequested)
        {
            logger.LogDebug(e, "Publish endpoints were not prepared in advance; the first publish prepares them");
        }
    }

    /// <summary>
    /// Publishes batch after batch in sequence order. While one batch is published and confirmed, the next one is read
    /// and the one before is marked, so the three round trips overlap instead of following one another; a read leaves
    /// out the rows being published or marked, and the oldest unpublished row is still always the next one read.
    /// </summary>
    private async Task DispatchAsync(CancellationToken stoppingToken)
    {
        var backoff = FirstBackoff;
        while (!stoppingToken.IsCancellationRequested)
        {
            Task<IReadOnlyList<EventLog.Row>>? reading = null;
            var marking = Task.CompletedTask;
            try
            {
                long[] beingMarked = [];
                reading = eventLog.UnpublishedAsync(options.Value.DispatchBatchSize, [], stoppingToken);
                while (true)
                {
                    var rows = await reading;
                    reading = null;
                    if (rows.Count == 0)
                    {
                        await marking;
                        beingMarked = [];
                        await signal.WaitAsync(options.Value.DispatchPollInterval, stoppingToken);
                        reading = eventLog.UnpublishedAsync(options.Value.DispatchBatchSize, [], stoppingToken);
                        continue;
                    }

                    reading = eventLog.UnpublishedAsync(
                        options.Value.DispatchBatchSize, [.. beingMarked, .. rows.Select(row => row.Id)], stoppingToken);
                    var published = await PublishAsync(rows, stoppingToken);
                    await marking;
                    beingMarked = [.. published];
                    marking = beingMarked.Length > 0 ? eventLog.MarkPublishedAsync(beingMarked, stoppingToken) : Task.CompletedTask;
                    if (published.Count < rows.Count)
                    {
                        await marking;
                        throw new InvalidOperationException($"{rows.Count - published.Count} of {rows.Count} events were not confirmed by the broker");
                    }

                    backoff = FirstBackoff;
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                logger.LogWarning(e, "Outbox dispatch failed; retrying in {Backoff}", backoff);
                await Task.Delay(backoff, stoppingToken);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
            }
            finally
            {
                await SettleAsync(reading, marking);
            }
        }
    }

    /// <summary>
    /// Waits out a read or a mark still under way when dispatch stops or starts over, so none is left unobserved. What
    /// they failed with does not matter: the next round reads from the oldest unpublished row, and a row published but
    /// not marked is published again (secondaries take duplicates).
    /// </summary>
    private async Task SettleAsync(Task? reading, Task marking)
    {
        try
        {
            await Task.WhenAll(reading ?? Task.CompletedTask, marking);
        }
        catch (Exception e)
        {
            logger.LogDebug(e, "A read or mark of the outbox under way when dispatch stopped failed");
        }
    }

    private async Task<List<long>> PublishAsync(IReadOnlyList<EventLog.Row> rows, CancellationToken stoppingToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        timeout.CancelAfter(PublishTimeout);

        var attempts = rows.Select(async row =>
        {
            try
            {
                await PublishRowAsync(row, timeout.Token);
                StageTrace.Mark("published", row.Id);
                GeoMetrics.EventsPublished.WithLabels(row.EventType).Inc();
                return row.Id;
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogDebug(e, "Event {Sequence} was not published", row.Id);
                return -1;
            }
        });
        var results = await Task.WhenAll(attempts);
        return results.Where(id => id > 0).ToList();
    }

    private async Task PublishRowAsync(EventLog.Row row, CancellationToken cancellationToken)
    {
        if (GeoTopology.EventType(row.EventType) is not { } type)
        {
            throw new InvalidOperationException($"event_log row {row.Id} has unknown event_type '{row.EventType}'");
        }

        var evt = Event(row, type);

        // Continue the hook request's trace: MassTransit's send span, and the consumers', become its children.
        using var activity = Tracing.StartFrom("outbox publish", System.Diagnostics.ActivityKind.Producer, row.TraceParent);
        activity?.SetTag("geo.sequence", row.Id);
        activity?.SetTag("geo.event_type", row.EventType);
        await bus.Publish(evt, type, context => context.MessageId = evt.EventId, cancellationToken);
    }

    /// <summary>
    /// The row's event with its Sequence, the row's id (known only once the row was committed). The stored body is
    /// PostgreSQL's text of a jsonb object (it ends in <c>}</c>); a Sequence member appended last wins over the body's
    /// own, so the event is read once, with no document tree in between.
    /// </summary>
    internal static IGeoEvent Event(EventLog.Row row, Type type)
    {
        var body = row.Body.AsSpan().TrimEnd();
        if (body is not [.., '}'])
        {
            throw new InvalidOperationException($"event_log row {row.Id}'s body is not a JSON object");
        }

        var json = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{body[..^1]}, \"{nameof(IGeoEvent.Sequence)}\": {row.Id}}}");
        return (IGeoEvent)JsonSerializer.Deserialize(json, type)!;
    }
}
