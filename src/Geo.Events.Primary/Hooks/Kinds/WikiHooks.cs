using FluentValidation;
using Geo.Events.Contracts;
using Geo.Events.Core.Paths;

namespace Geo.Events.Primary.Hooks.Kinds;

/// <summary>A project webhook's <c>wiki_page</c> event: a page was created, updated or deleted, so the wiki repository changed.</summary>
internal static class WikiHooks
{
    public static void Rules(SystemHookValidator v)
    {
        v.RuleFor(p => p.Project).NotNull().WithMessage("'project' is required");
        v.RuleFor(p => p.Project!.Id).NotNull().WithMessage("'project.id' is required").GreaterThan(0).WithMessage("'project.id' must be positive")
            .When(p => p.Project is not null);
        v.RuleFor(p => p.Project!.PathWithNamespace)
            .Must(path => ProjectPath.Problem(path) is null)
            .WithMessage(p => $"'project.path_with_namespace' {ProjectPath.Problem(p.Project!.PathWithNamespace)}")
            .When(p => p.Project is not null);
        v.RuleFor(p => p.Wiki!.PathWithNamespace)
            .Equal(p => p.Project!.PathWithNamespace + SystemHookPayload.WikiSuffix)
            .WithMessage("'wiki.path_with_namespace' must be the project's path followed by .wiki")
            .When(p => p.Wiki?.PathWithNamespace is not null && p.Project is not null);
        v.RuleFor(p => p.ObjectAttributes!.Action)
            .Must(a => a is "create" or "update" or "delete")
            .WithMessage("'object_attributes.action' must be create, update or delete")
            .When(p => p.ObjectAttributes?.Action is not null);
    }

    public static IGeoEvent Map(SystemHookPayload payload, EventStamp stamp) => new RepositoryChanged
    {
        EventId = stamp.EventId,
        Sequence = 0,
        OccurredAt = stamp.OccurredAt,
        ProjectId = payload.Project!.Id!.Value,
        PathWithNamespace = payload.Project.PathWithNamespace!,
        Kind = RepositoryKind.Wiki,
        Trigger = payload.Kind!,
    };
}
