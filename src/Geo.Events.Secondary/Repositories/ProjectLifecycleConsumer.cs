using System.Diagnostics;
using Geo.Events.Contracts;
using Geo.Events.Core.Observability;
using Geo.Events.Core.Paths;
using Geo.Events.Core.Repositories;
using MassTransit;

namespace Geo.Events.Secondary.Repositories;

/// <summary>
/// Applies renames, transfers, group renames and deletions of projects and groups. All hold the owner's locks, so
/// they never interleave with a sync of the same repository. Order-safe through sequences: a rename older than the
/// path the registry holds changes nothing, and a destroyed project or group wiki stays destroyed.
/// </summary>
public sealed class ProjectLifecycleConsumer(
    ProjectRegistry registry,
    ProjectMover mover,
    ProjectDestroyer destroyer,
    ILogger<ProjectLifecycleConsumer> logger) : IConsumer<ProjectRenamed>, IConsumer<ProjectDestroyed>, IConsumer<NamespaceRenamed>, IConsumer<GroupDestroyed>,
    IConsumer<RepositoryDestroyed>
{
    /// <summary>
    /// GitLab's <c>group_rename</c> and <c>user_rename</c>: every project under the old full path moves, and GitLab
    /// sends no project_rename for them. Each is moved like a rename, with this event's sequence; so are the wikis of the
    /// group and of the groups below it.
    /// </summary>
    public async Task Consume(ConsumeContext<NamespaceRenamed> context)
    {
        var evt = context.Message;
        var started = Stopwatch.GetTimestamp();
        foreach (var path in new[] { evt.OldFullPath, evt.FullPath })
        {
            if (ProjectPath.NamespaceProblem(path) is { } problem)
            {
                throw new InvalidProjectPathException(path ?? "", problem);
            }
        }

        var moved = 0;
        foreach (var (projectId, path) in await registry.UnderNamespaceAsync(evt.OldFullPath, context.CancellationToken))
        {
            var newPath = evt.FullPath + path[evt.OldFullPath.Length..];
            if (ProjectPath.Problem(newPath) is null)
            {
                await mover.MoveAsync(projectId, newPath, evt.Sequence, evt.Trigger, context.CancellationToken);
                moved++;
            }
        }

        var wikis = 0;
        foreach (var (groupId, path) in await registry.GroupWikisUnderAsync(evt.OldFullPath, context.CancellationToken))
        {
            var newPath = evt.FullPath + path[evt.OldFullPath.Length..];
            if (ProjectPath.NamespaceProblem(newPath) is null)
            {
                await mover.MoveAsync(groupId, newPath, evt.Sequence, evt.Trigger, context.CancellationToken, RepositoryKind.GroupWiki);
                wikis++;
            }
        }

        logger.LogInformation("Namespace {Old} renamed to {New} ({Trigger}): {Count} projects and {Wikis} group wikis moved", evt.OldFullPath, evt.FullPath, evt.Trigger, moved, wikis);
        Observe(nameof(NamespaceRenamed), started);
    }

    public async Task Consume(ConsumeContext<ProjectRenamed> context)
    {
        var evt = context.Message;
        var started = Stopwatch.GetTimestamp();
        Check(evt.PathWithNamespace);
        Check(evt.OldPathWithNamespace);
        var cancellationToken = context.CancellationToken;

        await mover.MoveAsync(evt.ProjectId, evt.PathWithNamespace, evt.Sequence, evt.Trigger, cancellationToken);
        Observe(nameof(ProjectRenamed), started);
    }

    public async Task Consume(ConsumeContext<ProjectDestroyed> context)
    {
        var evt = context.Message;
        var started = Stopwatch.GetTimestamp();
        Check(evt.PathWithNamespace);
        var cancellationToken = context.CancellationToken;

        var decision = await destroyer.DestroyAsync(evt.ProjectId, evt.PathWithNamespace, evt.Sequence, cancellationToken);
        if (decision != SafetyNet.DestroyGuard.Decision.Apply)
        {
            GeoMetrics.EventsApplied.WithLabels(nameof(ProjectDestroyed), decision == SafetyNet.DestroyGuard.Decision.Held ? "held" : "discarded").Inc();
            return;
        }

        Observe(nameof(ProjectDestroyed), started);
    }

    /// <summary>
    /// GitLab's <c>group_destroy</c> / <c>subgroup_destroy</c>: the wikis of the group and of every group below it are
    /// removed for good (GitLab deletes subgroups with their parent).
    /// </summary>
    public async Task Consume(ConsumeContext<GroupDestroyed> context)
    {
        var evt = context.Message;
        var started = Stopwatch.GetTimestamp();
        if (ProjectPath.NamespaceProblem(evt.FullPath) is { } problem)
        {
            throw new InvalidProjectPathException(evt.FullPath ?? "", problem);
        }

        var wikis = (await registry.GroupWikisUnderAsync(evt.FullPath, context.CancellationToken)).ToList();
        if (evt.GroupId is { } groupId && wikis.All(w => w.GroupId != groupId))
        {
            wikis.Add((groupId, evt.FullPath)); // its tombstone keeps a late event from bringing the wiki back
        }

        foreach (var (id, path) in wikis)
        {
            await destroyer.DestroyUnguardedAsync(id, [RepositoryKind.GroupWiki], path, evt.Sequence, context.CancellationToken);
        }

        Observe(nameof(GroupDestroyed), started);
    }

    /// <summary>
    /// A snippet, or a group wiki, that geo-primary's change detector saw gone from GitLab's storage (GitLab sends no
    /// hook when a snippet is deleted): that one mirror goes to the trash and its row is tombstoned. Only those two
    /// kinds: a project's repositories go with its project_destroy, through the mass-destruction guard.
    /// </summary>
    public async Task Consume(ConsumeContext<RepositoryDestroyed> context)
    {
        var evt = context.Message;
        var started = Stopwatch.GetTimestamp();
        if (!RepositoryLayout.IsKnown(evt.Kind))
        {
            throw new UnknownRepositoryKindException(evt.Kind);
        }

        if (evt.Kind is not (RepositoryKind.Snippet or RepositoryKind.GroupWiki))
        {
            throw new UnguardedDestroyRefusedException(evt.Kind);
        }

        if (RepositoryLayout.PathProblem(evt.Kind, evt.FullPath) is { } problem)
        {
            throw new InvalidProjectPathException(evt.FullPath ?? "", problem);
        }

        await destroyer.DestroyUnguardedAsync(evt.OwnerId, [evt.Kind], evt.FullPath, evt.Sequence, context.CancellationToken);
        logger.LogInformation("The {Kind} of {OwnerId} ({Path}) is gone from the primary's storage ({Trigger}): its mirror went to the trash",
            RepositoryLayout.Label(evt.Kind), evt.OwnerId, evt.FullPath, evt.Trigger);
        Observe(nameof(RepositoryDestroyed), started);
    }

    private static void Check(string path)
    {
        var problem = ProjectPath.Problem(path);
        if (problem is not null)
        {
            throw new InvalidProjectPathException(path ?? "", problem);
        }
    }

    private static void Observe(string type, long started)
    {
        GeoMetrics.EventsApplied.WithLabels(type, "applied").Inc();
        GeoMetrics.ApplyDuration.WithLabels(type).Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
    }
}
