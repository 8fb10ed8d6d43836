using Geo.Events.Core.Messaging;

namespace Geo.Events.Secondary.Retries;

/// <summary>Section <c>Retry</c>: how a failing event is tried again before it is dead-lettered.</summary>
public sealed class RetryOptions
{
    public const string Section = "Retry";

    /// <summary>Quick retries in process, while the consumer holds the message: comma-separated durations.</summary>
    public string Immediate { get; set; } = "200ms,1s,3s";

    /// <summary>
    /// Redeliveries after that, each waiting in a TTL queue on the broker (so they survive a restart and hold
    /// no consumer): comma-separated durations. After the last one the message goes to the error queue.
    /// </summary>
    public string Delays { get; set; } = "10s,1m,10m,1h";

    public TimeSpan[] ImmediateIntervals => Durations.ParseList(Immediate);

    public TimeSpan[] DelayIntervals => Durations.ParseList(Delays);
}
