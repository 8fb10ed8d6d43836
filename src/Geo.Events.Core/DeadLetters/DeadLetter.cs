using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Geo.Events.Core.DeadLetters;

/// <summary>
/// One dead-lettered AMQP delivery as geo-primary stores it: the exact properties, headers and body (so a
/// replay sends the same message), plus what geo-admin filters and groups on, read from MassTransit's fault
/// headers (MT-Fault-*) and its JSON envelope.
/// </summary>
public sealed record DeadLetter
{
    public required string Secondary { get; init; }
    public required string SourceQueue { get; init; }
    public required string OriginalQueue { get; init; }
    public required string Reason { get; init; }
    public required string DeliveryHash { get; init; }
    public string GroupId => GroupIdOf(ExceptionType, ExceptionMessage, MessageType);
    public string? MessageId { get; init; }
    public string? MessageType { get; init; }
    public long? ProjectId { get; init; }
    public string? ProjectPath { get; init; }
    public long? KeyId { get; init; }
    public string? ExceptionType { get; init; }
    public string? ExceptionMessage { get; init; }
    public string? StackTrace { get; init; }
    public int? RetryCount { get; init; }
    public int? RedeliveryCount { get; init; }
    public DateTimeOffset? FaultedAt { get; init; }
    public required string Properties { get; init; }
    public required string Headers { get; init; }
    public required byte[] Body { get; init; }

    /// <summary>Groups are failures with one cause: the same exception type and message on the same event type.</summary>
    public static string GroupIdOf(string? exceptionType, string? exceptionMessage, string? messageType) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{exceptionType}\n{exceptionMessage}\n{messageType}")))[..10];

    /// <summary>Reads a delivery taken from <paramref name="sourceQueue"/>; headers are already decoded to strings and numbers.</summary>
    public static DeadLetter From(string secondary, string sourceQueue, string originalQueue, IReadOnlyDictionary<string, object?> headers,
        IReadOnlyDictionary<string, object?> properties, byte[] body)
    {
        var headersJson = JsonSerializer.Serialize(headers);
        var propertiesJson = JsonSerializer.Serialize(properties);
        var hash = Convert.ToHexStringLower(SHA256.HashData([.. Encoding.UTF8.GetBytes(headersJson), .. body]));

        string? Header(string name) => headers.TryGetValue(name, out var value) ? value?.ToString() : null;
        int? IntHeader(string name) => int.TryParse(Header(name), out var value) ? value : null;

        JsonNode? message = null;
        string? messageType = null;
        string? messageId = properties.TryGetValue("message_id", out var id) ? id?.ToString() : null;
        try
        {
            var envelope = JsonNode.Parse(body);
            message = envelope?["message"];
            messageId ??= envelope?["messageId"]?.GetValue<string>();
            // MassTransit names types as urn:message:Namespace:Type; the first is the concrete one.
            messageType = envelope?["messageType"]?.AsArray().FirstOrDefault()?.GetValue<string>()?.Split(':')[^1];
        }
        catch (JsonException)
        {
            // Not a MassTransit envelope: kept as it is, with fewer facts to filter on.
        }

        return new DeadLetter
        {
            Secondary = secondary,
            SourceQueue = sourceQueue,
            OriginalQueue = originalQueue,
            Reason = sourceQueue.EndsWith("_skipped", StringComparison.Ordinal) ? DeadLetterReason.Skipped : DeadLetterReason.Fault,
            DeliveryHash = hash,
            MessageId = messageId,
            MessageType = messageType,
            ProjectId = Long(message?["projectId"]),
            ProjectPath = String(message?["pathWithNamespace"]),
            KeyId = Long(message?["keyId"]),
            ExceptionType = Header("MT-Fault-ExceptionType"),
            ExceptionMessage = Header("MT-Fault-Message") ?? (sourceQueue.EndsWith("_skipped", StringComparison.Ordinal) ? "no consumer for this message type" : null),
            StackTrace = Header("MT-Fault-StackTrace"),
            RetryCount = IntHeader("MT-Fault-RetryCount"),
            RedeliveryCount = IntHeader(Contracts.GeoHeaders.RedeliveryCount),
            FaultedAt = DateTimeOffset.TryParse(Header("MT-Fault-Timestamp"), out var at) ? at : null,
            Properties = Storable(propertiesJson),
            Headers = Storable(headersJson),
            Body = body,
        }.Storable();
    }

    /// <summary>
    /// PostgreSQL's text and jsonb cannot hold a NUL, which a forged or broken message may carry in its path and so in
    /// its fault message: shown as ␀ (U+2400) instead, or the letter could not be stored at all. The body (bytea) keeps
    /// the exact bytes, so a replay sends what arrived.
    /// </summary>
    private DeadLetter Storable() => this with
    {
        MessageId = Storable(MessageId),
        MessageType = Storable(MessageType),
        ProjectPath = Storable(ProjectPath),
        ExceptionType = Storable(ExceptionType),
        ExceptionMessage = Storable(ExceptionMessage),
        StackTrace = Storable(StackTrace),
    };

    [return: System.Diagnostics.CodeAnalysis.NotNullIfNotNull(nameof(text))]
    private static string? Storable(string? text) => text?.Replace("\\u0000", "\u2400", StringComparison.Ordinal).Replace('\0', '\u2400');

    private static long? Long(JsonNode? node) => node is JsonValue value && value.TryGetValue<long>(out var number) ? number : null;

    private static string? String(JsonNode? node) => node is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;
}
