using FluentValidation;
using Geo.Events.Contracts;
using Geo.Events.Core.Paths;

namespace Geo.Events.Primary.Hooks.Kinds;

/// <summary>
/// <c>project_create</c>, <c>project_update</c>, <c>project_destroy</c>, <c>project_rename</c>, <c>project_transfer</c>: the project's id
/// and path at the top level of the payload.
/// </summary>
internal static class ProjectHooks
{
    public static void Rules(SystemHookValidator v)
    {
        v.RuleFor(p => p.ProjectId).NotNull().WithMessage("'project_id' is required").GreaterThan(0).WithMessage("'project_id' must be positive");
        v.RuleFor(p => p.PathWithNamespace)
            .Must(path => ProjectPath.Problem(path) is null)
            .WithMessage(p => $"'path_with_namespace' {ProjectPath.Problem(p.PathWithNamespace)}");
    }

    public static void RenameRules(SystemHookValidator v)
    {
        Rules(v);
        v.RuleFor(p => p.OldPathWithNamespace)
            .Must(path => ProjectPath.Problem(path) is null)
            .WithMessage(p => $"'old_path_with_namespace' {ProjectPath.Problem(p.OldPathWithNamespace)}");
    }

    /// <summary>
    /// project_create and project_update are a repository to sync: a new project may already have refs (an import, a
    /// fork); an updated one may have a new default branch, which the sync's fetch brings along with HEAD.
    /// </summary>
    public static IGeoEvent MapSync(SystemHookPayload payload, EventStamp stamp) => new RepositoryChanged
    {
        EventId = stamp.EventId,
        Sequence = 0,
        OccurredAt = stamp.OccurredAt,
        ProjectId = payload.ProjectId!.Value,
        PathWithNamespace = payload.PathWithNamespace!,
        Trigger = payload.Kind!,
    };

    public static IGeoEvent MapRename(SystemHookPayload payload, EventStamp stamp) => new ProjectRenamed
    {
        EventId = stamp.EventId,
        Sequence = 0,
        OccurredAt = stamp.OccurredAt,
        ProjectId = payload.ProjectId!.Value,
        PathWithNamespace = payload.PathWithNamespace!,
        OldPathWithNamespace = payload.OldPathWithNamespace!,
        Trigger = payload.Kind!,
    };

    public static IGeoEvent MapDestroy(SystemHookPayload payload, EventStamp stamp) => new ProjectDestroyed
    {
        EventId = stamp.EventId,
        Sequence = 0,
        OccurredAt = stamp.OccurredAt,
        ProjectId = payload.ProjectId!.Value,
        PathWithNamespace = payload.PathWithNamespace!,
    };
}
