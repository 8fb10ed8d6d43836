namespace Geo.Events.Contracts.Api;

/// <summary>The answer of <c>POST /api/v1/admin/dead-letters/replay|delete|restore</c>.</summary>
public sealed record DeadLetterOutcome
{
    /// <summary>The batch the audit history records it under; null for a dry run or when nothing matched.</summary>
    public Guid? Batch { get; init; }

    public bool DryRun { get; init; }

    /// <summary><c>replay</c>, <c>archive</c> or <c>restore</c>.</summary>
    public required string Action { get; init; }

    /// <summary>The dead letters acted on (replayed, archived, restored), or that would be for a dry run.</summary>
    public IReadOnlyList<long> Ids { get; init; } = [];

    /// <summary>Replay only: the dead letters the broker did not take, with why.</summary>
    public IReadOnlyDictionary<long, string> Failed { get; init; } = new Dictionary<long, string>();
}
