namespace Geo.Events.Contracts;

/// <summary>
/// A project's repository changed on the primary: GitLab's <c>push</c>, <c>tag_push</c> and
/// <c>repository_update</c> system hooks all become this event. A secondary converges its mirror to the
/// primary's current refs, so <see cref="Changes"/> says what triggered the sync, not what to apply.
/// </summary>
public sealed record RepositoryChanged : IProjectEvent
{
    public required Guid EventId { get; init; }
    public required long Sequence { get; init; }
    public required DateTimeOffset OccurredAt { get; init; }

    /// <summary>
    /// The id of the repository's owner: GitLab's project id for a project's repository, wiki and design
    /// repository; the snippet's id for a <see cref="RepositoryKind.Snippet"/>; the group's id for a
    /// <see cref="RepositoryKind.GroupWiki"/>.
    /// </summary>
    public required long ProjectId { get; init; }

    /// <summary>
    /// The owner's path: GitLab's <c>project.path_with_namespace</c>, e.g. <c>group/subgroup/project</c>; a group
    /// wiki's group full path; a snippet's full path (<c>snippets/&lt;id&gt;</c> or <c>group/project/snippets/&lt;id&gt;</c>).
    /// </summary>
    public required string PathWithNamespace { get; init; }

    /// <summary>The repository's kind (events recorded before this field existed were about the project's repository).</summary>
    public RepositoryKind Kind { get; init; } = RepositoryKind.Project;

    /// <summary>The GitLab event that produced this one: push, tag_push, repository_update, project_create, wiki_page.</summary>
    public required string Trigger { get; init; }

    /// <summary>The ref updates GitLab reported (may be empty).</summary>
    public IReadOnlyList<RefChange> Changes { get; init; } = [];

    /// <summary>
    /// Set by geo-primary's repository change detector (<see cref="Trigger"/> <c>repository_scan</c>): the refs
    /// checksum (v1, as the inventory's) of the primary's repository when the detector read it. A mirror whose refs
    /// already have this checksum, and whose HEAD is <see cref="Head"/>, needs no fetch for this event.
    /// </summary>
    public string? RefsChecksum { get; init; }

    /// <summary>Set by the change detector: what the primary's HEAD pointed at (e.g. <c>refs/heads/main</c>).</summary>
    public string? Head { get; init; }

    /// <summary>
    /// True when GitLab reported more ref updates than an event keeps: <see cref="Changes"/> is left empty and the
    /// whole repository is synced (which every sync does: it converges to the primary's current refs).
    /// </summary>
    public bool WholeRepository { get; init; }
}

/// <summary>One ref update as GitLab reports it; an all-zero sha means "created" (before) or "deleted" (after).</summary>
public sealed record RefChange(string Ref, string Before, string After);

/// <summary>Which of GitLab's git repositories an event is about; the numbers are stored and never reused.</summary>
public enum RepositoryKind
{
    /// <summary>A project's repository.</summary>
    Project = 0,

    /// <summary>A project's wiki.</summary>
    Wiki = 1,

    /// <summary>A project's design repository (design management).</summary>
    Design = 2,

    /// <summary>A snippet's repository (personal or project snippet); the owner id is the snippet's.</summary>
    Snippet = 3,

    /// <summary>A group's wiki; the owner id is the group's.</summary>
    GroupWiki = 4,
}
