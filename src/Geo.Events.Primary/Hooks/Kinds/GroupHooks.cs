using FluentValidation;
using Geo.Events.Contracts;
using Geo.Events.Core.Paths;

namespace Geo.Events.Primary.Hooks.Kinds;

/// <summary>
/// <c>group_rename</c>: a group's full path changed, and with it every project's below it. <c>group_destroy</c> /
/// <c>subgroup_destroy</c>: the group, its wiki and its subgroups' wikis are gone.
/// </summary>
internal static class GroupHooks
{
    public static void RenameRules(SystemHookValidator v)
    {
        v.RuleFor(p => p.FullPath).Must(path => ProjectPath.NamespaceProblem(path) is null)
            .WithMessage(p => $"'full_path' {ProjectPath.NamespaceProblem(p.FullPath)}");
        v.RuleFor(p => p.OldFullPath).Must(path => ProjectPath.NamespaceProblem(path) is null)
            .WithMessage(p => $"'old_full_path' {ProjectPath.NamespaceProblem(p.OldFullPath)}");
        v.RuleFor(p => p.GroupId).GreaterThan(0).When(p => p.GroupId is not null);
    }

    public static IGeoEvent MapRename(SystemHookPayload payload, EventStamp stamp) => new NamespaceRenamed
    {
        EventId = stamp.EventId,
        Sequence = 0,
        OccurredAt = stamp.OccurredAt,
        GroupId = payload.GroupId,
        FullPath = payload.FullPath!,
        OldFullPath = payload.OldFullPath!,
        Trigger = HookKinds.GroupRename,
    };

    public static void DestroyRules(SystemHookValidator v)
    {
        v.RuleFor(p => p.FullPath).Must(path => ProjectPath.NamespaceProblem(path) is null)
            .WithMessage(p => $"'full_path' {ProjectPath.NamespaceProblem(p.FullPath)}");
        v.RuleFor(p => p.GroupId).GreaterThan(0).When(p => p.GroupId is not null);
    }

    public static IGeoEvent MapDestroy(SystemHookPayload payload, EventStamp stamp) => new GroupDestroyed
    {
        EventId = stamp.EventId,
        Sequence = 0,
        OccurredAt = stamp.OccurredAt,
        GroupId = payload.GroupId,
        FullPath = payload.FullPath!,
        Trigger = payload.Kind!,
    };
}
