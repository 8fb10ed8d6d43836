namespace Geo.Events.Contracts.Api;

/// <summary>
/// The answer of <c>GET /api/v1/admin/requests/{id}</c>: how far the run answering a backfill, verify or resync
/// request has come (<see cref="Progress"/> is null until a status report mentions it).
/// </summary>
public sealed record AdminRequestProgress
{
    public required long RequestId { get; init; }

    public ReconcileRunStatus? Progress { get; init; }
}
