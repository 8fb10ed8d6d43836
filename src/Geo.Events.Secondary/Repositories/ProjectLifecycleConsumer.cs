using System.Diagnostics;
using Geo.Events.Contracts;
using Geo.Events.Core.Observability;
using Geo.Events.Core.Paths;
using MassTransit;

namespace Geo.Events.Secondary.Repositories;

/// <summary>
/// Applies renames, transfers, group renames and deletions of projects. All hold the project's locks, so
/// they never interleave with a sync of the same project. Order-safe through sequences: a rename older than the path
/// the registry holds changes nothing, and a destroyed project stays destroyed.
/// </summary>
public sealed class ProjectLifecycleConsumer(
    ProjectRegistry registry,
    ProjectMover mover,
    ProjectDestroyer destroyer,
    ILogger<ProjectLifecycleConsumer> logger) : IConsumer<ProjectRenamed>, IConsumer<ProjectDestroyed>, IConsumer<NamespaceRenamed>
{
    /// <summary>
    /// GitLab's <c>group_rename</c> and <c>user_rename</c>: every project under the old full path moves, and GitLab
    /// sends no project_rename for them. Each is moved like a rename, with this event's sequence.
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

        logger.LogInformation("Namespace {Old} renamed to {New} ({Trigger}): {Count} projects moved", evt.OldFullPath, evt.FullPath, evt.Trigger, moved);
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
