namespace Geo.Events.Contracts.Api;

/// <summary>The answer of <c>GET /api/v1/admin/status</c>: every registered secondary's health, and the newest event.</summary>
public sealed record AdminStatus
{
    public required IReadOnlyList<SecondaryHealth> Secondaries { get; init; }

    /// <summary>The primary's newest event sequence.</summary>
    public required long PrimarySequence { get; init; }
}
