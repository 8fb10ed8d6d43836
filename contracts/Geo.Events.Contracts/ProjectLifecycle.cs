namespace Geo.Events.Contracts;

/// <summary>
/// GitLab's <c>project_rename</c> and <c>project_transfer</c> system hooks: the project's
/// <c>path_with_namespace</c> changed. A secondary moves its mirror's readable name; the project's data
/// stays where it is (mirrors are stored by project id).
/// </summary>
public sealed record ProjectRenamed : IProjectEvent
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
public sealed record ProjectDestroyed : IProjectEvent
{
    public required Guid EventId { get; init; }
    public required long Sequence { get; init; }
    public required DateTimeOffset OccurredAt { get; init; }
    public required long ProjectId { get; init; }
    public required string PathWithNamespace { get; init; }
}

/// <summary>
/// GitLab's <c>group_rename</c> and <c>user_rename</c> system hooks: a namespace's full path changed (a group's, or a
/// user's personal namespace with their username), and with it the path of every project below it (GitLab sends no
/// project_rename for those).
/// </summary>
public sealed record NamespaceRenamed : IGeoEvent
{
    public required Guid EventId { get; init; }
    public required long Sequence { get; init; }
    public required DateTimeOffset OccurredAt { get; init; }
    public long? GroupId { get; init; }

    /// <summary>GitLab's <c>full_path</c>, e.g. <c>parent/new-name</c>.</summary>
    public required string FullPath { get; init; }

    /// <summary>GitLab's <c>old_full_path</c>.</summary>
    public required string OldFullPath { get; init; }

    /// <summary>group_rename or user_rename (events recorded before this field existed were group renames).</summary>
    public string Trigger { get; init; } = "group_rename";
}

/// <summary>
/// GitLab's <c>group_destroy</c> and <c>subgroup_destroy</c> system hooks: the group is gone, and with it its wiki and
/// every subgroup's. (Its projects are destroyed one by one, each with its own <c>project_destroy</c>.)
/// </summary>
public sealed record GroupDestroyed : IGeoEvent
{
    public required Guid EventId { get; init; }
    public required long Sequence { get; init; }
    public required DateTimeOffset OccurredAt { get; init; }
    public long? GroupId { get; init; }

    /// <summary>GitLab's <c>full_path</c> of the destroyed group.</summary>
    public required string FullPath { get; init; }

    /// <summary>group_destroy or subgroup_destroy.</summary>
    public string Trigger { get; init; } = "group_destroy";
}

/// <summary>
/// A repository GitLab deleted without a hook, seen gone from its storage by geo-primary's change detector: a snippet
/// (GitLab sends no hook when one is deleted), or a group wiki whose <c>group_destroy</c> was lost. Recorded only
/// after the repository was missing on two consecutive passes over a storage that still shows repositories (see the
/// README's deletion rule). A secondary removes that one mirror (into the trash), and a tombstone keeps it removed.
/// </summary>
public sealed record RepositoryDestroyed : IGeoEvent
{
    public required Guid EventId { get; init; }
    public required long Sequence { get; init; }
    public required DateTimeOffset OccurredAt { get; init; }

    /// <summary>The owner's id: the snippet's for a snippet, the group's for a group wiki.</summary>
    public required long OwnerId { get; init; }

    public required RepositoryKind Kind { get; init; }

    /// <summary>The owner's path as last seen (<c>gitlab.fullpath</c>): the snippet's full path, the group's full path.</summary>
    public required string FullPath { get; init; }

    public string Trigger { get; init; } = "repository_scan";
}
