namespace Geo.Events.Contracts.Api;

/// <summary>
/// The answer of <c>POST /api/v1/admin/secondaries/{name}/backfill|verify</c>: the request left for the secondary's
/// next status report (geo-admin follows it by this id).
/// </summary>
public sealed record AdminRequestAnswer
{
    public required long RequestId { get; init; }

    /// <summary>Who asked, as the audit history records it: <c>admin-token:&lt;name&gt;</c>.</summary>
    public required string RequestedBy { get; init; }
}
