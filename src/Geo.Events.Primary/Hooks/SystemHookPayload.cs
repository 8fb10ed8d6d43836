using System.Text.Json;

namespace Geo.Events.Primary.Hooks;

/// <summary>
/// The fields geo-primary reads from GitLab's system-hook and webhook payloads, as GitLab documents them
/// (Administration → System hooks: push, tag_push, repository_update, key_create, key_destroy,
/// project_create, project_destroy, project_rename, project_transfer). Unknown fields are ignored.
/// </summary>
public sealed class SystemHookPayload
{
    public static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        MaxDepth = 32,
    };

    /// <summary>System hooks name the event here (push, tag_push, repository_update, key_create…).</summary>
    public string? EventName { get; set; }

    /// <summary>Project webhooks name it here instead (push, tag_push, wiki_page…).</summary>
    public string? ObjectKind { get; set; }

    public string? Before { get; set; }
    public string? After { get; set; }
    public string? Ref { get; set; }
    public string? CheckoutSha { get; set; }
    public long? ProjectId { get; set; }
    public long? UserId { get; set; }
    public HookProject? Project { get; set; }

    /// <summary>repository_update: the ref updates of one push.</summary>
    public List<HookChange>? Changes { get; set; }

    /// <summary>repository_update: the refs that changed.</summary>
    public List<string>? Refs { get; set; }

    /// <summary>key_create / key_destroy: the key's id, its OpenSSH text, and its owner.</summary>
    public long? Id { get; set; }

    public string? Key { get; set; }

    public string? Username { get; set; }

    /// <summary>user_rename: the username (the personal namespace's path) before.</summary>
    public string? OldUsername { get; set; }

    /// <summary>project_create / _destroy / _rename / _transfer: the project's path, at the top level.</summary>
    public string? PathWithNamespace { get; set; }

    /// <summary>project_rename / project_transfer: the path before.</summary>
    public string? OldPathWithNamespace { get; set; }

    /// <summary>group_rename: the group's id and its full path after and before.</summary>
    public long? GroupId { get; set; }

    public string? FullPath { get; set; }

    public string? OldFullPath { get; set; }

    /// <summary>File events: the file's path under its kind's storage root, its size and SHA-256 (creates only).</summary>
    public string? Path { get; set; }

    public long? Size { get; set; }

    public string? Sha256 { get; set; }

    /// <summary>wiki_page: the wiki's own attributes, and what happened to the page.</summary>
    public HookWiki? Wiki { get; set; }

    public HookObjectAttributes? ObjectAttributes { get; set; }

    /// <summary>The event's kind: a non-empty <c>event_name</c>, else <c>object_kind</c> (as <see cref="HookKinds.KindOf"/> reads it).</summary>
    public string? Kind => string.IsNullOrEmpty(EventName) ? string.IsNullOrEmpty(ObjectKind) ? null : ObjectKind : EventName;

    /// <summary>GitLab names a wiki repository <c>&lt;project path&gt;.wiki</c>.</summary>
    public const string WikiSuffix = ".wiki";
}

public sealed class HookWiki
{
    public string? PathWithNamespace { get; set; }
    public string? DefaultBranch { get; set; }
}

public sealed class HookObjectAttributes
{
    public string? Action { get; set; }
    public string? Slug { get; set; }
}

public sealed class HookProject
{
    public long? Id { get; set; }
    public string? Name { get; set; }
    public string? PathWithNamespace { get; set; }
    public string? DefaultBranch { get; set; }
}

public sealed class HookChange
{
    public string? Before { get; set; }
    public string? After { get; set; }
    public string? Ref { get; set; }
}
