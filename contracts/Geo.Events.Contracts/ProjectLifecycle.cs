namespace Geo.Events.Contracts;

/// <summary>
/// GitLab's <c>project_rename</c> and <c>project_transfer</c> system hooks: the project's
/// <c>path_with_namespace</c> changed. A secondary moves its mirror's readable name; the project's data
/// stays where it is (mirrors are stored by project id).
/// </summary>
public sealed record ProjectRenamed : IGeoEvent
{
    public required Guid EventId { get; init; }
    public required long Sequence { get; init; }
    public required DateTimeOffset OccurredAt { get; init; }
    public required long ProjectId { get; init; }

    /// <summary>The new <c>path_with_namespace</c>.</summary>
    public required string PathWithNamespace { get; init; }

    /// <summary>GitLab's <c>old_path_with_namespace</c>.</summary>
    public required string OldPathWithNamespace { get; init; }

    /// <summary>project_rename or project_transfer.</summary>
    public required string Trigger { get; init; }
}

/// <summary>GitLab's <c>project_destroy</c> system hook: the project and its repositories are gone for good.</summary>
public sealed record ProjectDestroyed : IGeoEvent
{
    public required Guid EventId { get; init; }
    public required long Sequence { get; init; }
    public required DateTimeOffset OccurredAt { get; init; }
    public required long ProjectId { get; init; }
    public required string PathWithNamespace { get; init; }
}
