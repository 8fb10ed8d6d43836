namespace Geo.Events.Primary.Hooks;

/// <summary>The GitLab event names geo-primary knows, from GitLab's system hooks and webhook documentation.</summary>
public static class HookEvents
{
    public const string Push = "push";
    public const string TagPush = "tag_push";
    public const string RepositoryUpdate = "repository_update";
    public const string KeyCreate = "key_create";
    public const string KeyDestroy = "key_destroy";
    public const string ProjectCreate = "project_create";
    public const string ProjectDestroy = "project_destroy";
    public const string ProjectRename = "project_rename";
    public const string ProjectTransfer = "project_transfer";

    /// <summary>A project webhook's "Wiki page events" (object_kind wiki_page): the wiki repository changed.</summary>
    public const string WikiPage = "wiki_page";

    /// <summary>A group's path changed: every project below it moved.</summary>
    public const string GroupRename = "group_rename";

    /// <summary>File events (not GitLab's: posted by a script, or made by geo-primary's storage watcher).</summary>
    public static readonly IReadOnlyDictionary<string, (Contracts.FileKind Kind, bool Create)> FileEvents = new Dictionary<string, (Contracts.FileKind, bool)>
    {
        ["upload_create"] = (Contracts.FileKind.Upload, true),
        ["upload_destroy"] = (Contracts.FileKind.Upload, false),
        ["lfs_object_create"] = (Contracts.FileKind.LfsObject, true),
        ["lfs_object_destroy"] = (Contracts.FileKind.LfsObject, false),
        ["avatar_create"] = (Contracts.FileKind.Avatar, true),
        ["avatar_destroy"] = (Contracts.FileKind.Avatar, false),
    };

    public static bool IsFileEvent(string? kind) => kind is not null && FileEvents.ContainsKey(kind);

    public static readonly IReadOnlySet<string> Replicated = new HashSet<string>(StringComparer.Ordinal)
    {
        Push, TagPush, RepositoryUpdate, KeyCreate, KeyDestroy, ProjectCreate, ProjectDestroy, ProjectRename, ProjectTransfer, WikiPage, GroupRename,
        "upload_create", "upload_destroy", "lfs_object_create", "lfs_object_destroy", "avatar_create", "avatar_destroy",
    };

    public static bool IsRepositoryEvent(string? kind) => kind is Push or TagPush or RepositoryUpdate;

    public static bool IsKeyEvent(string? kind) => kind is KeyCreate or KeyDestroy;

    public static bool IsProjectEvent(string? kind) => kind is ProjectCreate or ProjectDestroy or ProjectRename or ProjectTransfer;

    /// <summary>
    /// Documented GitLab events that this version does not replicate. They are answered 200 with a note rather
    /// than an error, because GitLab sends them to every system hook whether or not anyone wants them.
    /// </summary>
    public static readonly IReadOnlySet<string> Ignored = new HashSet<string>(StringComparer.Ordinal)
    {
        "group_create", "group_destroy",
        "project_update",
        "user_access_request_revoked_for_group", "user_access_request_revoked_for_project",
        "user_access_request_to_group", "user_access_request_to_project", "user_add_to_group", "user_add_to_team",
        "user_create", "user_destroy", "user_failed_login", "user_remove_from_group", "user_remove_from_team",
        "user_rename", "user_update_for_group", "user_update_for_team", "merge_request",
        "note", "issue", "pipeline", "build", "deployment", "release", "emoji", "feature_flag",
    };
}
