using System.Text.Json;
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

    /// <summary>
    /// A project's attributes changed, its path excepted (doc/administration/system_hooks.md): its default branch among
    /// them. The payload names no attribute (it has project_create's fields), so it is replicated as a sync of the
    /// repository, whose fetch brings the primary's HEAD along.
    /// </summary>
    public const string ProjectUpdate = "project_update";

    /// <summary>A project webhook's "Wiki page events" (object_kind wiki_page): the wiki repository changed.</summary>
    public const string WikiPage = "wiki_page";

    /// <summary>A group's path changed: every project below it moved.</summary>
    public const string GroupRename = "group_rename";

    /// <summary>A group was deleted (a system hook), or a subgroup (a group webhook): its wiki goes with it.</summary>
    public const string GroupDestroy = "group_destroy";

    /// <summary>A subgroup was deleted (a group webhook's <c>event_name</c>).</summary>
    public const string SubgroupDestroy = "subgroup_destroy";

    /// <summary>A user's username changed: every project in their personal namespace moved.</summary>
    public const string UserRename = "user_rename";

    /// <summary>The kinds that are recorded and replicated, by name.</summary>
    public static readonly IReadOnlyDictionary<string, HookKind> Replicated = new HookKind[]
    {
        new(Push, RepositoryHooks.PushRules, RepositoryHooks.Map),
        new(TagPush, RepositoryHooks.TagPushRules, RepositoryHooks.Map),
        new(RepositoryUpdate, RepositoryHooks.UpdateRules, RepositoryHooks.Map),
        new(ProjectCreate, ProjectHooks.Rules, ProjectHooks.MapSync),
        new(ProjectUpdate, ProjectHooks.Rules, ProjectHooks.MapSync),
        new(ProjectDestroy, ProjectHooks.Rules, ProjectHooks.MapDestroy),
        new(ProjectRename, ProjectHooks.RenameRules, ProjectHooks.MapRename),
        new(ProjectTransfer, ProjectHooks.RenameRules, ProjectHooks.MapRename),
        new(GroupRename, GroupHooks.RenameRules, GroupHooks.MapRename),
        new(GroupDestroy, GroupHooks.DestroyRules, GroupHooks.MapDestroy),
        new(SubgroupDestroy, GroupHooks.DestroyRules, GroupHooks.MapDestroy),
        new(UserRename, UserHooks.RenameRules, UserHooks.MapRename),
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
    /// Documented GitLab events that this version does not replicate, from the system hooks page
    /// (doc/administration/system_hooks.md) and the webhook events page
    /// (doc/user/project/integrations/webhook_events.md). They, and any kind newer than this list, are answered 200
    /// with a note rather than an error: GitLab sends them to every hook whether or not anyone wants them, never
    /// retries, and may disable a project or group webhook that keeps failing. The list only tells a documented kind
    /// from an unknown one in the note and the log.
    /// </summary>
    public static readonly IReadOnlySet<string> Ignored = new HashSet<string>(StringComparer.Ordinal)
    {
        // System hooks.
        "group_create",
        "user_access_request_revoked_for_group", "user_access_request_revoked_for_project",
        "user_access_request_to_group", "user_access_request_to_project",
        "user_access_request_denied_for_group", "user_access_request_denied_for_project",
        "user_add_to_group", "user_add_to_team", "user_create", "user_destroy", "user_failed_login",
        "user_remove_from_group", "user_remove_from_team", "user_update_for_group", "user_update_for_team",
        "gitlab_subscription_member_approval", "gitlab_subscription_member_approvals",

        // Project and group webhooks (object_kind, or event_name where the payload has one).
        "merge_request", "note", "issue", "work_item", "pipeline", "build", "deployment", "release", "emoji",
        "feature_flag", "milestone", "vulnerability", "subgroup_create",
        "expiring_access_token", "access_token", "deploy_token", "expiring_deploy_token", "member", "project",
    };

    /// <summary>The longest event name geo-primary reads as one (GitLab's longest is under 40 characters).</summary>
    public const int MaxNameLength = 64;

    /// <summary>
    /// The payload's kind, read from the top level of <paramref name="body"/> alone: <c>event_name</c>, else
    /// <c>object_kind</c> (as <see cref="SystemHookPayload.Kind"/>), null when neither is a non-empty string.
    /// Throws <see cref="JsonException"/> when the body is not a JSON object, nests deeper than 32 or names its
    /// event with something other than a string.
    /// </summary>
    public static string? KindOf(ReadOnlySpan<byte> body)
    {
        var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = SystemHookPayload.JsonOptions.MaxDepth });
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("the body must be a JSON object");
        }

        string? eventName = null, objectKind = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.ValueTextEquals("event_name") ? 1 : reader.ValueTextEquals("object_kind") ? 2 : 0;
            reader.Read();
            if (name != 0 && reader.TokenType is not (JsonTokenType.String or JsonTokenType.Null))
            {
                throw new JsonException($"'{(name == 1 ? "event_name" : "object_kind")}' must be a string");
            }

            var value = name != 0 && reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
            if (name == 1)
            {
                eventName = value;
            }
            else if (name == 2)
            {
                objectKind = value;
            }

            reader.Skip();
        }

        if (reader.TokenType != JsonTokenType.EndObject || reader.Read())
        {
            throw new JsonException("the body must be one JSON object");
        }

        return string.IsNullOrEmpty(eventName) ? string.IsNullOrEmpty(objectKind) ? null : objectKind : eventName;
    }

    /// <summary>GitLab names its events in lowercase ASCII letters, digits and '_' (push, user_access_request_to_group…).</summary>
    public static bool IsEventName(string kind) =>
        kind.Length is > 0 and <= MaxNameLength && kind[0] is >= 'a' and <= 'z' && kind.All(c => c is >= 'a' and <= 'z' or >= '0' and <= '9' or '_');

    /// <summary>The contract event for a payload that passed <see cref="SystemHookValidator"/>.</summary>
    public static IGeoEvent Map(SystemHookPayload payload, Guid eventId, DateTimeOffset occurredAt) =>
        Replicated.TryGetValue(payload.Kind ?? "", out var kind)
            ? kind.Map(payload, new EventStamp(eventId, occurredAt))
            : throw new ArgumentException($"'{payload.Kind}' is not a replicated event kind", nameof(payload));
}
