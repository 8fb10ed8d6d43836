using Geo.Events.Core;
using Geo.Events.Core.Messaging;
using Geo.Events.Core.Observability;
using Geo.Events.Secondary.Registration;
using MassTransit;
using Microsoft.Extensions.Options;

namespace Geo.Events.Secondary.Retries;

/// <summary>
/// Wraps every consumer (outside its quick in-process retries): when a consumer still fails, the message is
/// sent to the delay queue for its next attempt, with <see cref="AttemptHeader"/> counting attempts, and the
/// original is acknowledged only after the broker confirmed that send. Past the last delay, or on a
/// <see cref="PermanentFailureException"/>, the exception goes on to MassTransit, which moves the message
/// to the error queue with its fault headers. A message applied, or given up on, is recorded in
/// <see cref="AppliedEvents"/> before it is acknowledged (a redelivered one is not: it still waits).
/// </summary>
public sealed class DelayedRedeliveryFilter<T>(
    DelayQueues delayQueues,
    IOptions<RetryOptions> retry,
    IOptions<SecondaryOptions> secondary,
    AppliedEvents applied,
    ILogger<DelayedRedeliveryFilter<T>> logger) : IFilter<ConsumeContext<T>>
    where T : class
{
    public const string AttemptHeader = Contracts.GeoHeaders.RedeliveryCount;
    public const string LastErrorHeader = Contracts.GeoHeaders.LastError;

    public async Task Send(ConsumeContext<T> context, IPipe<ConsumeContext<T>> next)
    {
        try
        {
            await next.Send(context);
            await TryRecordAsync(context);
        }
        catch (Exception e) when (e is not OperationCanceledException && (e is PermanentFailureException || Attempt(context) >= retry.Value.DelayIntervals.Length))
        {
            GeoMetrics.DeadLettered.WithLabels(typeof(T).Name).Inc();
            // Finished with, as far as the lag goes: from here it is a dead letter, counted and shown as one.
            await TryRecordAsync(context);
            throw; // MassTransit moves it to the error queue
        }
        catch (Exception e) when (e is not PermanentFailureException && e is not OperationCanceledException && Attempt(context) < retry.Value.DelayIntervals.Length)
        {
            var attempt = Attempt(context);
            var delay = retry.Value.DelayIntervals[attempt];
            await delayQueues.EnsureDeclaredAsync();
            var queue = SecondaryTopology.DelayQueue(secondary.Value.Name, delay);
            var endpoint = await context.GetSendEndpoint(new Uri($"exchange:{queue}?type=fanout"));
            await endpoint.Send(context.Message, send =>
            {
                send.MessageId = context.MessageId;
                send.CorrelationId = context.CorrelationId;
                send.Headers.Set(AttemptHeader, attempt + 1);
                send.Headers.Set(LastErrorHeader, e.Message.Length > 500 ? e.Message[..500] : e.Message);
            }, context.CancellationToken);
            GeoMetrics.Redeliveries.WithLabels(typeof(T).Name).Inc();
            logger.LogWarning("{MessageType} {MessageId} failed ({Error}); redelivery {Attempt} of {Max} in {Delay}",
                typeof(T).Name, context.MessageId, e.Message, attempt + 1, retry.Value.DelayIntervals.Length, Durations.Format(delay));
        }
    }

    /// <summary>
    /// Counts the event finished with for the low watermark. Never fails the message: an applied event must not be
    /// redelivered or dead-lettered because PostgreSQL hiccuped afterwards. An event not counted holds the watermark
    /// back, so status errs towards "behind", never towards "ok".
    /// </summary>
    private async Task TryRecordAsync(ConsumeContext<T> context)
    {
        try
        {
            await RecordAsync(context);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning("{MessageType} {MessageId} is finished with, but could not be counted for the status ({Error}); the lag shown stays higher than it is",
                typeof(T).Name, context.MessageId, e.Message);
        }
    }

    private Task RecordAsync(ConsumeContext<T> context) =>
        context.Message is Contracts.IGeoEvent { Sequence: > 0 } evt ? applied.RecordAsync(evt.Sequence) : Task.CompletedTask;

    public void Probe(ProbeContext context) => context.CreateFilterScope("geoDelayedRedelivery");

    private static int Attempt(ConsumeContext context) => context.Headers.Get<int>(AttemptHeader) ?? 0;
}
