using FluentValidation;
using Geo.Events.Contracts;
using Geo.Events.Core.Paths;

namespace Geo.Events.Primary.Hooks.Kinds;

/// <summary>
/// <c>user_rename</c>: a user's username changed, and with it the path of their personal namespace. GitLab sends no
/// <c>project_rename</c> for the projects in it (doc/administration/system_hooks.md), so it is replicated as the
/// namespace's rename, exactly as <c>group_rename</c> is.
/// </summary>
internal static class UserHooks
{
    public static void RenameRules(SystemHookValidator v)
    {
        v.RuleFor(p => p.Username).Must(IsNamespace).WithMessage(p => $"'username' {Problem(p.Username)}");
        v.RuleFor(p => p.OldUsername).Must(IsNamespace).WithMessage(p => $"'old_username' {Problem(p.OldUsername)}");
        v.RuleFor(p => p.UserId).GreaterThan(0).When(p => p.UserId is not null);
    }

    public static IGeoEvent MapRename(SystemHookPayload payload, EventStamp stamp) => new NamespaceRenamed
    {
        EventId = stamp.EventId,
        Sequence = 0,
        OccurredAt = stamp.OccurredAt,
        FullPath = payload.Username!,
        OldFullPath = payload.OldUsername!,
        Trigger = HookKinds.UserRename,
    };

    private static bool IsNamespace(string? username) => Problem(username) is null;

    /// <summary>A personal namespace is one segment: the username is its path.</summary>
    private static string? Problem(string? username) =>
        ProjectPath.NamespaceProblem(username) ?? (username!.Contains('/') ? "must be a single path segment (a personal namespace)" : null);
}
