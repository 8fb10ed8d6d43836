namespace Geo.Events.Contracts.Api;

/// <summary>
/// A stored dead letter, as geo-admin lists and shows it and <c>GET /api/v1/admin/dead-letters[/{id}]</c> answers it
/// (<see cref="Body"/> as base64 on the wire; <see cref="Properties"/> and <see cref="Headers"/> as JSON text).
/// </summary>
public sealed record StoredDeadLetter
{
    public long Id { get; init; }
    public string Secondary { get; init; } = "";
    public string SourceQueue { get; init; } = "";
    public string OriginalQueue { get; init; } = "";
    public string Reason { get; init; } = "";
    public string GroupId { get; init; } = "";
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
    public DateTimeOffset IngestedAt { get; init; }
    public string Properties { get; init; } = "{}";
    public string Headers { get; init; } = "{}";
    public byte[] Body { get; init; } = [];
    public string State { get; init; } = "";
    public DateTimeOffset? ReplayedAt { get; init; }
    public DateTimeOffset? ArchivedAt { get; init; }
}
