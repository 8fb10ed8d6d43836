namespace Geo.Events.Contracts;

/// <summary>Which of GitLab's file stores a file belongs to; each has its own storage root on either side.</summary>
public enum FileKind
{
    /// <summary>Attachments (GitLab's <c>uploads</c> folder).</summary>
    Upload = 0,

    /// <summary>Git LFS objects (<c>shared/lfs-objects</c>).</summary>
    LfsObject = 1,

    /// <summary>User, group and project avatars.</summary>
    Avatar = 2,
}

/// <summary>
/// A file appeared (or changed) on the primary: <c>upload_create</c>, <c>lfs_object_create</c>,
/// <c>avatar_create</c>, posted to geo-primary or found by its storage watcher. A secondary downloads it from
/// geo-primary and keeps it only if its size and SHA-256 are these.
/// </summary>
public sealed record FileCreated : IGeoEvent
{
    public required Guid EventId { get; init; }
    public required long Sequence { get; init; }
    public required DateTimeOffset OccurredAt { get; init; }
    public required FileKind Kind { get; init; }

    /// <summary>Relative to the kind's storage root, '/'-separated, validated on both sides.</summary>
    public required string Path { get; init; }

    public required long Size { get; init; }

    /// <summary>Lowercase hex SHA-256 of the file's bytes.</summary>
    public required string Sha256 { get; init; }
}

/// <summary>A file was removed on the primary: <c>upload_destroy</c> and the like. A later, older create cannot bring it back.</summary>
public sealed record FileDestroyed : IGeoEvent
{
    public required Guid EventId { get; init; }
    public required long Sequence { get; init; }
    public required DateTimeOffset OccurredAt { get; init; }
    public required FileKind Kind { get; init; }
    public required string Path { get; init; }
}
