namespace Geo.Events.Contracts;

/// <summary>
/// GitLab's <c>key_create</c> system hook: a user added an SSH key. The key was parsed at ingest and is
/// carried as its parts; the comment is not replicated.
/// </summary>
public sealed record SshKeyCreated : IGeoEvent
{
    public required Guid EventId { get; init; }
    public required long Sequence { get; init; }
    public required DateTimeOffset OccurredAt { get; init; }

    /// <summary>GitLab's key id; gitlab-shell is called with <c>key-&lt;KeyId&gt;</c>.</summary>
    public required long KeyId { get; init; }
    public required string Username { get; init; }
    public long? UserId { get; init; }

    /// <summary>e.g. <c>ssh-ed25519</c>.</summary>
    public required string KeyType { get; init; }

    /// <summary>The key's base64 body, exactly as OpenSSH writes it.</summary>
    public required string KeyBlob { get; init; }

    /// <summary>OpenSSH's SHA256 fingerprint of the blob.</summary>
    public required string Fingerprint { get; init; }
}

/// <summary>GitLab's <c>key_destroy</c> system hook: the key must stop working everywhere.</summary>
public sealed record SshKeyDestroyed : IGeoEvent
{
    public required Guid EventId { get; init; }
    public required long Sequence { get; init; }
    public required DateTimeOffset OccurredAt { get; init; }
    public required long KeyId { get; init; }
    public required string Username { get; init; }
    public long? UserId { get; init; }
}
