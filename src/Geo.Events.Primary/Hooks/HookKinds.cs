using Geo.Events.Contracts;
using Geo.Events.Primary.Hooks.Kinds;

namespace Geo.Events.Primary.Hooks;

/// <summary>
/// Every GitLab event kind geo-primary knows, in one table (from GitLab's system hooks and webhook documentation).
/// A replicated kind is one <see cref="HookKind"/> entry here: its rules, its mapping to a contract event; the
/// contract's type decides its exchange. Adding a kind is one entry, plus a consumer of its contract on the
/// secondary if the contract is new.
/// </summary>
public static class HookKinds
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

    /// <summary>The kinds that are recorded and replicated, by name.</summary>
    public static readonly IReadOnlyDictionary<string, HookKind> Replicated = new HookKind[]
    {
        new(Push, RepositoryHooks.PushRules, RepositoryHooks.Map),
        new(TagPush, RepositoryHooks.TagPushRules, RepositoryHooks.Map),
        new(RepositoryUpdate, RepositoryHooks.UpdateRules, RepositoryHooks.Map),
        new(ProjectCreate, ProjectHooks.Rules, ProjectHooks.MapCreate),
        new(ProjectDestroy, ProjectHooks.Rules, ProjectHooks.MapDestroy),
        new(ProjectRename, ProjectHooks.RenameRules, ProjectHooks.MapRename),
        new(ProjectTransfer, ProjectHooks.RenameRules, ProjectHooks.MapRename),
        new(GroupRename, GroupHooks.RenameRules, GroupHooks.MapRename),
        new(WikiPage, WikiHooks.Rules, WikiHooks.Map),
        new(KeyCreate, KeyHooks.CreateRules, KeyHooks.MapCreate),
        new(KeyDestroy, KeyHooks.DestroyRules, KeyHooks.MapDestroy),

        // File events are not GitLab's: a script posts them, or geo-primary's storage watcher makes them.
        FileHooks.Create("upload_create", FileKind.Upload),
        FileHooks.Destroy("upload_destroy", FileKind.Upload),
        FileHooks.Create("lfs_object_create", FileKind.LfsObject),
        FileHooks.Destroy("lfs_object_destroy", FileKind.LfsObject),
        FileHooks.Create("avatar_create", FileKind.Avatar),
        FileHooks.Destroy("avatar_destroy", FileKind.Avatar),
    }.ToDictionary(kind => kind.Name, StringComparer.Ordinal);

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

    /// <summary>The contract event for a payload that passed <see cref="SystemHookValidator"/>.</summary>
    public static IGeoEvent Map(SystemHookPayload payload, Guid eventId, DateTimeOffset occurredAt) =>
        Replicated.TryGetValue(payload.Kind ?? "", out var kind)
            ? kind.Map(payload, new EventStamp(eventId, occurredAt))
            : throw new ArgumentException($"'{payload.Kind}' is not a replicated event kind", nameof(payload));
}
