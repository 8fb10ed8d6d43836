using System.Globalization;
using RabbitMQ.Client;

namespace Geo.Events.Core.Messaging;

/// <summary>
/// A secondary's queues, each in the shape MassTransit gives a queue (an exchange of the same name, bound to
/// the queue), all quorum queues:
/// <list type="bullet">
/// <item><c>geo.secondary.&lt;name&gt;</c>: its events, bound to every event exchange;</item>
/// <item><c>…_error</c> and <c>…_skipped</c>: where MassTransit moves failed and unconsumable messages;</item>
/// <item><c>….delay.&lt;10s&gt;</c>: one per redelivery delay; messages wait there for the queue's TTL and
/// are dead-lettered (at least once) back into the secondary's queue. Nothing holds a consumer while they
/// wait, and the broker keeps them across restarts.</item>
/// </list>
/// </summary>
public static class SecondaryTopology
{
    private static readonly Dictionary<string, object?> Quorum = new() { ["x-queue-type"] = "quorum" };

    public static string Queue(string secondary) => GeoTopology.QueueName(secondary);

    public static string ErrorQueue(string secondary) => Queue(secondary) + "_error";

    public static string SkippedQueue(string secondary) => Queue(secondary) + "_skipped";

    public static string DelayQueue(string secondary, TimeSpan delay) => Queue(secondary) + ".delay." + Durations.Format(delay);

    /// <summary>Declares the secondary's queue (bound to every event exchange), its error and skipped queues.</summary>
    public static async Task DeclareAsync(IChannel channel, string secondary, CancellationToken cancellationToken)
    {
        foreach (var exchange in GeoTopology.EventExchanges.Values)
        {
            await channel.ExchangeDeclareAsync(exchange, ExchangeType.Fanout, durable: true, autoDelete: false, cancellationToken: cancellationToken);
        }

        var queue = Queue(secondary);
        await DeclareQueueAsync(channel, queue, Quorum, cancellationToken);
        foreach (var exchange in GeoTopology.EventExchanges.Values)
        {
            await channel.ExchangeBindAsync(destination: queue, source: exchange, routingKey: "", cancellationToken: cancellationToken);
        }

        await DeclareQueueAsync(channel, ErrorQueue(secondary), Quorum, cancellationToken);
        await DeclareQueueAsync(channel, SkippedQueue(secondary), Quorum, cancellationToken);
    }

    /// <summary>Declares one TTL queue per delay, dead-lettering into the secondary's queue.</summary>
    public static async Task DeclareDelaysAsync(IChannel channel, string secondary, IEnumerable<TimeSpan> delays, CancellationToken cancellationToken)
    {
        foreach (var delay in delays)
        {
            await DeclareQueueAsync(channel, DelayQueue(secondary, delay), new Dictionary<string, object?>
            {
                ["x-queue-type"] = "quorum",
                ["x-message-ttl"] = (long)delay.TotalMilliseconds,
                ["x-dead-letter-exchange"] = Queue(secondary),
                ["x-dead-letter-strategy"] = "at-least-once",
                ["x-overflow"] = "reject-publish",
            }, cancellationToken);
        }
    }

    private static async Task DeclareQueueAsync(IChannel channel, string name, IDictionary<string, object?> arguments, CancellationToken cancellationToken)
    {
        await channel.ExchangeDeclareAsync(name, ExchangeType.Fanout, durable: true, autoDelete: false, cancellationToken: cancellationToken);
        await channel.QueueDeclareAsync(name, durable: true, exclusive: false, autoDelete: false, arguments: arguments, cancellationToken: cancellationToken);
        await channel.QueueBindAsync(name, name, routingKey: "", cancellationToken: cancellationToken);
    }
}

/// <summary>Short durations for settings and names: <c>200ms</c>, <c>10s</c>, <c>1m</c>, <c>1h</c>, comma-separated in lists.</summary>
public static class Durations
{
    public static string Format(TimeSpan value) => value switch
    {
        { TotalHours: >= 1 } when value.TotalHours % 1 == 0 => $"{value.TotalHours:0}h",
        { TotalMinutes: >= 1 } when value.TotalMinutes % 1 == 0 => $"{value.TotalMinutes:0}m",
        { TotalSeconds: >= 1 } when value.TotalSeconds % 1 == 0 => $"{value.TotalSeconds:0}s",
        _ => $"{value.TotalMilliseconds:0}ms",
    };

    public static TimeSpan Parse(string text)
    {
        text = text.Trim();
        var (number, unit) = text.EndsWith("ms", StringComparison.Ordinal) ? (text[..^2], "ms") : (text[..^1], text[^1..]);
        if (text.Length < 2 || !double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || value < 0)
        {
            throw new FormatException($"'{text}' is not a duration such as 200ms, 10s, 1m or 1h");
        }

        return unit switch
        {
            "ms" => TimeSpan.FromMilliseconds(value),
            "s" => TimeSpan.FromSeconds(value),
            "m" => TimeSpan.FromMinutes(value),
            "h" => TimeSpan.FromHours(value),
            _ => throw new FormatException($"'{text}' is not a duration such as 200ms, 10s, 1m or 1h"),
        };
    }

    /// <summary>A comma-separated list; empty or <c>none</c> is no entries.</summary>
    public static TimeSpan[] ParseList(string? text) =>
        string.IsNullOrWhiteSpace(text) || text.Trim() == "none" ? [] : text.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(Parse).ToArray();
}
