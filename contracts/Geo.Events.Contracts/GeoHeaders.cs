namespace Geo.Events.Contracts;

/// <summary>
/// Message headers our processes set and other processes read (AMQP headers on the bus). MassTransit's own
/// (<c>MT-Fault-*</c>) and RabbitMQ's (<c>x-death</c>, …) are theirs and are not listed here.
/// </summary>
public static class GeoHeaders
{
    /// <summary>
    /// Set by geo-secondary on a message it sends to a delay queue: how many redeliveries it has had. Read back by
    /// geo-secondary for the next attempt, by geo-primary's dead-letter ingest, and dropped by geo-admin's replay
    /// (a replay starts afresh).
    /// </summary>
    public const string RedeliveryCount = "Geo-Redelivery-Count";

    /// <summary>Set by geo-secondary beside <see cref="RedeliveryCount"/>: the last attempt's error (at most 500 characters).</summary>
    public const string LastError = "Geo-Last-Error";

    /// <summary>Set by geo-admin on a replayed message: the batch of the replay, so the audit trail and the message meet.</summary>
    public const string ReplayBatch = "Geo-Replay-Batch";
}
