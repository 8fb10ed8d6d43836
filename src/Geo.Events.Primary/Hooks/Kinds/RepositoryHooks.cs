using FluentValidation;
using Geo.Events.Contracts;
using Geo.Events.Core.Paths;

namespace Geo.Events.Primary.Hooks.Kinds;

/// <summary><c>push</c>, <c>tag_push</c> and <c>repository_update</c>: a project's (or its wiki's) refs changed.</summary>
internal static class RepositoryHooks
{
    public static void PushRules(SystemHookValidator v)
    {
        ProjectRules(v);
        RefRules(v, "refs/heads/", "a push event's 'ref' must be under refs/heads/");
    }

    public static void TagPushRules(SystemHookValidator v)
    {
        ProjectRules(v);
        RefRules(v, "refs/tags/", "a tag_push event's 'ref' must be under refs/tags/");
    }

    public static void UpdateRules(SystemHookValidator v)
    {
        ProjectRules(v);
        v.RuleFor(p => p.Changes).NotNull().WithMessage("'changes' is required for repository_update");
        // ChildRules skips a null item: it needs a rule of its own, or the mapping would meet it.
        v.RuleForEach(p => p.Changes).NotNull().WithMessage("'changes[]' must be objects with ref, before and after");
        v.RuleForEach(p => p.Changes).ChildRules(change =>
        {
            change.RuleFor(c => c.Ref).Must(GitRef.IsValid).WithMessage("'changes[].ref' must be a full git ref name");
            change.RuleFor(c => c.Before).Must(GitRef.IsObjectId).WithMessage("'changes[].before' must be a 40 or 64 character hex object id");
            change.RuleFor(c => c.After).Must(GitRef.IsObjectId).WithMessage("'changes[].after' must be a 40 or 64 character hex object id");
        });
    }

    /// <summary>
    /// The most ref changes an event keeps. A bigger push (GitLab sends up to 25 MiB of them) is still replicated: it is
    /// recorded as a sync of the whole repository without its list, which every sync is anyway (the mirror converges
    /// to the primary's current refs; the list only says what triggered it).
    /// </summary>
    public const int MaxKeptChanges = 10_000;

    /// <summary>
    /// A payload about a wiki repository. Current GitLab sends no system hook for a push to a wiki (PostReceive's
    /// process_wiki_changes calls no hook), while a project may really be called <c>handbook.wiki</c> (GitLab only forbids
    /// it beside a project or group <c>handbook</c>: HasWiki#check_wiki_path_conflict). So a path ending in <c>.wiki</c> is
    /// the wiki only when the <c>project</c> object has the shape of a wiki's hook attributes (ProjectWiki#hook_attrs:
    /// urls, path and default branch, but no id and no name), as older GitLab versions and scripts send it; a full
    /// project object is the project at that path.
    /// </summary>
    public static bool IsWiki(SystemHookPayload payload) =>
        payload.Project is { Id: null, Name: null, PathWithNamespace: { } path } && path.EndsWith(SystemHookPayload.WikiSuffix, StringComparison.Ordinal);

    public static IGeoEvent Map(SystemHookPayload payload, EventStamp stamp)
    {
        var whole = payload.Kind == HookKinds.RepositoryUpdate && payload.Changes!.Count > MaxKeptChanges;
        IReadOnlyList<RefChange> changes = payload.Kind != HookKinds.RepositoryUpdate
            ? [new RefChange(payload.Ref!, payload.Before!, payload.After!)]
            : whole ? [] : payload.Changes!.Select(c => new RefChange(c.Ref!, c.Before!, c.After!)).ToList();

        var path = payload.Project!.PathWithNamespace!;
        var wiki = IsWiki(payload);
        return new RepositoryChanged
        {
            EventId = stamp.EventId,
            Sequence = 0,
            OccurredAt = stamp.OccurredAt,
            ProjectId = payload.ProjectId!.Value,
            PathWithNamespace = wiki ? path[..^SystemHookPayload.WikiSuffix.Length] : path,
            Kind = wiki ? RepositoryKind.Wiki : RepositoryKind.Project,
            Trigger = payload.Kind!,
            Changes = changes,
            WholeRepository = whole,
        };
    }

    private static void ProjectRules(SystemHookValidator v)
    {
        v.RuleFor(p => p.ProjectId).NotNull().GreaterThan(0);
        v.RuleFor(p => p.Project).NotNull().WithMessage("'project' is required");
        v.RuleFor(p => p.Project!.PathWithNamespace)
            .Must(path => ProjectPath.Problem(path) is null)
            .WithMessage(p => $"'project.path_with_namespace' {ProjectPath.Problem(p.Project!.PathWithNamespace)}")
            .When(p => p.Project is not null);
        v.RuleFor(p => p.Project!.Id)
            .Equal(p => p.ProjectId).WithMessage("'project.id' differs from 'project_id'")
            .When(p => p.Project?.Id is not null);
    }

    private static void RefRules(SystemHookValidator v, string prefix, string outsidePrefix)
    {
        v.RuleFor(p => p.Ref).Must(GitRef.IsValid).WithMessage("'ref' must be a full git ref name such as refs/heads/main");
        v.RuleFor(p => p.Ref).Must(r => r!.StartsWith(prefix, StringComparison.Ordinal))
            .When(p => GitRef.IsValid(p.Ref)).WithMessage(outsidePrefix);
        v.RuleFor(p => p.Before).Must(GitRef.IsObjectId).WithMessage("'before' must be a 40 or 64 character hex object id");
        v.RuleFor(p => p.After).Must(GitRef.IsObjectId).WithMessage("'after' must be a 40 or 64 character hex object id");
    }
}
