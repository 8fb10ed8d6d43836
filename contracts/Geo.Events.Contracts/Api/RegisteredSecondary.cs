namespace Geo.Events.Contracts.Api;

/// <summary>
/// A registered secondary as <c>geo-admin secondaries list|show</c> prints it and <c>GET /api/v1/admin/secondaries</c>
/// and <c>GET /api/v1/admin/secondaries/{name}/registration</c> answer it.
/// </summary>
public sealed record RegisteredSecondary
{
    public required string Name { get; init; }
    public string? Url { get; init; }
    public IReadOnlyList<string> Namespaces { get; init; } = [];
    public DateTime RegisteredAt { get; init; }
    public DateTime? LastHeartbeatAt { get; init; }
    public double? HeartbeatAgeSeconds { get; init; }

    /// <summary>Messages waiting in its queue; null when the queue is missing (or not asked: the list leaves it out).</summary>
    public long? Queued { get; init; }

    /// <summary>The last status report exactly as the secondary sent it (JSON text).</summary>
    public string? Status { get; init; }
}

/// <summary>The answer of <c>DELETE /api/v1/admin/secondaries/{name}</c>.</summary>
public sealed record RemovedSecondary
{
    public required string Name { get; init; }

    /// <summary>Undelivered messages dropped with its queues.</summary>
    public long Dropped { get; init; }

    /// <summary>Who removed it, as the audit history records it.</summary>
    public required string RemovedBy { get; init; }
}
