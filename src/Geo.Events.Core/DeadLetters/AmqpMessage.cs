using System.Text;
using System.Text.Json;
using Geo.Events.Contracts;
using RabbitMQ.Client;

namespace Geo.Events.Core.DeadLetters;

/// <summary>
/// Converts an AMQP message's properties and headers to plain values (strings, numbers, booleans) for
/// storage as JSON, and back for a replay, so the replayed message is the one that failed.
/// </summary>
public static class AmqpMessage
{
    /// <summary>Headers geo-admin removes on replay: the failure's record, and the redelivery count (a replay starts afresh).</summary>
    public static bool IsFailureHeader(string name) =>
        name.StartsWith("MT-Fault-", StringComparison.Ordinal) || name.StartsWith("MT-Host-", StringComparison.Ordinal)
        || name is "MT-Reason" or GeoHeaders.RedeliveryCount or GeoHeaders.LastError or "x-death" or "x-first-death-exchange"
            or "x-first-death-queue" or "x-first-death-reason" or "x-delivery-count" or "x-last-death-exchange"
            or "x-last-death-queue" or "x-last-death-reason";

    public static Dictionary<string, object?> Headers(IReadOnlyBasicProperties properties) =>
        (properties.Headers ?? new Dictionary<string, object?>()).ToDictionary(h => h.Key, h => Plain(h.Value));

    public static Dictionary<string, object?> Properties(IReadOnlyBasicProperties properties)
    {
        var result = new Dictionary<string, object?>();
        if (properties.IsContentTypePresent())
        {
            result["content_type"] = properties.ContentType;
        }

        if (properties.IsMessageIdPresent())
        {
            result["message_id"] = properties.MessageId;
        }

        if (properties.IsCorrelationIdPresent())
        {
            result["correlation_id"] = properties.CorrelationId;
        }

        if (properties.IsTypePresent())
        {
            result["type"] = properties.Type;
        }

        result["persistent"] = properties.Persistent;
        return result;
    }

    /// <summary>Rebuilds the message's properties for a replay, without the failure headers.</summary>
    public static BasicProperties ForReplay(string propertiesJson, string headersJson, IReadOnlyDictionary<string, object?> extraHeaders)
    {
        var stored = JsonDocument.Parse(propertiesJson).RootElement;
        var properties = new BasicProperties { Persistent = true };
        if (stored.TryGetProperty("content_type", out var contentType))
        {
            properties.ContentType = contentType.GetString();
        }

        if (stored.TryGetProperty("message_id", out var messageId))
        {
            properties.MessageId = messageId.GetString();
        }

        if (stored.TryGetProperty("correlation_id", out var correlationId))
        {
            properties.CorrelationId = correlationId.GetString();
        }

        if (stored.TryGetProperty("type", out var type))
        {
            properties.Type = type.GetString();
        }

        var headers = new Dictionary<string, object?>();
        foreach (var header in JsonDocument.Parse(headersJson).RootElement.EnumerateObject())
        {
            if (!IsFailureHeader(header.Name))
            {
                headers[header.Name] = header.Value.ValueKind switch
                {
                    JsonValueKind.String => header.Value.GetString(),
                    JsonValueKind.Number when header.Value.TryGetInt64(out var number) => number,
                    JsonValueKind.Number => header.Value.GetDouble(),
                    JsonValueKind.True => true,
                    JsonValueKind.False => false,
                    _ => header.Value.GetRawText(),
                };
            }
        }

        foreach (var (name, value) in extraHeaders)
        {
            headers[name] = value;
        }

        properties.Headers = headers;
        return properties;
    }

    private static object? Plain(object? value) => value switch
    {
        null => null,
        byte[] bytes => Encoding.UTF8.GetString(bytes),
        string or bool or int or long or short or byte or double or float or decimal => value,
        AmqpTimestamp timestamp => DateTimeOffset.FromUnixTimeSeconds(timestamp.UnixTime).ToString("O"),
        IEnumerable<object?> list => list.Select(Plain).ToList(),
        IDictionary<string, object?> table => table.ToDictionary(t => t.Key, t => Plain(t.Value)),
        _ => value.ToString(),
    };
}
