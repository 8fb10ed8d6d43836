namespace Geo.Events.Contracts.Api;

/// <summary>
/// The body of <c>POST /api/v1/admin/dead-letters/replay|delete|restore</c>: which dead letters (every filter optional,
/// combined with AND; at least one, or <see cref="All"/>), and whether to only say what would be done.
/// </summary>
public sealed record DeadLetterSelection
{
    public IReadOnlyList<long> Ids { get; init; } = [];
    public string? Secondary { get; init; }

    /// <summary>The event type (RepositoryChanged, SshKeyCreated, …).</summary>
    public string? Type { get; init; }

    /// <summary>A project's path with namespace, or its id.</summary>
    public string? Project { get; init; }

    /// <summary>Text the exception's type or message contains.</summary>
    public string? Exception { get; init; }

    public string? Group { get; init; }
    public DateTimeOffset? Since { get; init; }

    /// <summary>Every dead letter the other filters select, even when there is none.</summary>
    public bool All { get; init; }

    public bool DryRun { get; init; }

    /// <summary>Replay only: also dead letters replayed already.</summary>
    public bool Force { get; init; }
}
