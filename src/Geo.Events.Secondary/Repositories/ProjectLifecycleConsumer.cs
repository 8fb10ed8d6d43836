using System.Diagnostics;
using Geo.Events.Contracts;
using Geo.Events.Core.Observability;
using Geo.Events.Core.Paths;
using MassTransit;
using Microsoft.Extensions.Options;

namespace Geo.Events.Secondary.Repositories;

/// <summary>
/// Applies renames, transfers and deletions of projects. Both hold the repository's lock, so they never
/// interleave with a sync of the same project. Order-safe through sequences: a rename older than the path
/// the registry holds changes nothing, and a destroyed project stays destroyed.
/// </summary>
public sealed class ProjectLifecycleConsumer(
    ProjectRegistry registry,
    RepositoryLock locks,
    MirrorStore mirrors,
    IOptions<SecondaryOptions> options,
    ILogger<ProjectLifecycleConsumer> logger) : IConsumer<ProjectRenamed>, IConsumer<ProjectDestroyed>
{
    public async Task Consume(ConsumeContext<ProjectRenamed> context)
    {
        var evt = context.Message;
        var started = Stopwatch.GetTimestamp();
        Check(evt.PathWithNamespace);
        Check(evt.OldPathWithNamespace);
        var cancellationToken = context.CancellationToken;

        await using (await locks.AcquireAsync(evt.ProjectId, options.Value.LockTimeout, cancellationToken))
        {
            var entry = await registry.RenameAsync(evt.ProjectId, evt.PathWithNamespace, evt.Sequence, cancellationToken);
            if (entry is null)
            {
                // Never synced here: nothing on disk to move. The next push, or backfill, brings it under its new path.
                logger.LogInformation("Project {ProjectId} renamed to {Path} before it was mirrored here; nothing to move", evt.ProjectId, evt.PathWithNamespace);
            }
            else if (!entry.Destroyed && !ProjectPath.IsIn(entry.PathWithNamespace, options.Value.Namespaces))
            {
                // Moved out of the namespaces this secondary mirrors (selective sync): it is no longer ours.
                await Task.Run(() =>
                {
                    if (entry.LinkedPath is { } linked)
                    {
                        mirrors.Unlink(evt.ProjectId, linked);
                    }

                    mirrors.Delete(evt.ProjectId);
                }, cancellationToken);
                await registry.ForgetAsync(evt.ProjectId, CancellationToken.None);
                logger.LogInformation("Project {ProjectId} moved to {Path}, outside Secondary:Namespaces; its mirror was removed", evt.ProjectId, entry.PathWithNamespace);
            }
            else if (!entry.Destroyed && mirrors.Exists(evt.ProjectId) && entry.LinkedPath != entry.PathWithNamespace)
            {
                await Task.Run(() => mirrors.Link(evt.ProjectId, entry.PathWithNamespace, entry.LinkedPath), cancellationToken);
                await registry.SetLinkedPathAsync(evt.ProjectId, entry.PathWithNamespace, CancellationToken.None);
                logger.LogInformation("Moved project {ProjectId} from {Old} to {New} ({Trigger})", evt.ProjectId, entry.LinkedPath, entry.PathWithNamespace, evt.Trigger);
            }
        }

        Observe(nameof(ProjectRenamed), started);
    }

    public async Task Consume(ConsumeContext<ProjectDestroyed> context)
    {
        var evt = context.Message;
        var started = Stopwatch.GetTimestamp();
        Check(evt.PathWithNamespace);
        var cancellationToken = context.CancellationToken;

        await using (await locks.AcquireAsync(evt.ProjectId, options.Value.LockTimeout, cancellationToken))
        {
            var entry = await registry.FindAsync(evt.ProjectId, cancellationToken);
            // Tombstone first: if we die between the two steps, the replayed event finishes the removal and no
            // sync recreates the mirror meanwhile.
            await registry.DestroyAsync(evt.ProjectId, evt.PathWithNamespace, evt.Sequence, cancellationToken);
            await Task.Run(() =>
            {
                foreach (var path in new[] { entry?.LinkedPath, entry?.PathWithNamespace, evt.PathWithNamespace }.OfType<string>().Distinct())
                {
                    mirrors.Unlink(evt.ProjectId, path);
                }

                mirrors.Delete(evt.ProjectId);
            }, cancellationToken);
            logger.LogInformation("Removed project {ProjectId} ({Path})", evt.ProjectId, evt.PathWithNamespace);
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
