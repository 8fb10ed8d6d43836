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

        await using (await LockBothAsync(evt.ProjectId, cancellationToken))
        {
            var entries = await registry.RenameAsync(evt.ProjectId, evt.PathWithNamespace, evt.Sequence, cancellationToken);
            if (entries.Count == 0)
            {
                // Never synced here: nothing on disk to move. The next push, or backfill, brings it under its new path.
                logger.LogInformation("Project {ProjectId} renamed to {Path} before it was mirrored here; nothing to move", evt.ProjectId, evt.PathWithNamespace);
            }
            else if (entries.All(e => !e.Destroyed) && !ProjectPath.IsIn(entries[0].PathWithNamespace, options.Value.Namespaces))
            {
                // Moved out of the namespaces this secondary mirrors (selective sync): it is no longer ours.
                await Task.Run(() =>
                {
                    foreach (var entry in entries)
                    {
                        if (entry.LinkedPath is { } linked)
                        {
                            mirrors.Unlink(evt.ProjectId, entry.RepositoryKind, linked);
                        }

                        mirrors.Delete(evt.ProjectId, entry.RepositoryKind);
                    }
                }, cancellationToken);
                await registry.ForgetAsync(evt.ProjectId, CancellationToken.None);
                logger.LogInformation("Project {ProjectId} moved to {Path}, outside Secondary:Namespaces; its mirrors were removed", evt.ProjectId, entries[0].PathWithNamespace);
            }
            else
            {
                // The project and its wiki move together: each is one link swap.
                foreach (var entry in entries.Where(e => !e.Destroyed && mirrors.Exists(evt.ProjectId, e.RepositoryKind) && e.LinkedPath != e.PathWithNamespace))
                {
                    await Task.Run(() => mirrors.Link(evt.ProjectId, entry.RepositoryKind, entry.PathWithNamespace, entry.LinkedPath), cancellationToken);
                    await registry.SetLinkedPathAsync(evt.ProjectId, entry.RepositoryKind, entry.PathWithNamespace, CancellationToken.None);
                    logger.LogInformation("Moved {Kind} of project {ProjectId} from {Old} to {New} ({Trigger})", entry.RepositoryKind, evt.ProjectId, entry.LinkedPath, entry.PathWithNamespace, evt.Trigger);
                }
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

        await using (await LockBothAsync(evt.ProjectId, cancellationToken))
        {
            var entries = await registry.AllKindsAsync(evt.ProjectId, cancellationToken);
            // Tombstone first: if we die between the two steps, the replayed event finishes the removal and no
            // sync recreates the mirror meanwhile.
            await registry.DestroyAsync(evt.ProjectId, evt.PathWithNamespace, evt.Sequence, cancellationToken);
            await Task.Run(() =>
            {
                foreach (var kind in new[] { RepositoryKind.Project, RepositoryKind.Wiki })
                {
                    var entry = entries.FirstOrDefault(e => e.RepositoryKind == kind);
                    foreach (var path in new[] { entry?.LinkedPath, entry?.PathWithNamespace, evt.PathWithNamespace }.OfType<string>().Distinct())
                    {
                        mirrors.Unlink(evt.ProjectId, kind, path);
                    }

                    mirrors.Delete(evt.ProjectId, kind);
                }
            }, cancellationToken);
            logger.LogInformation("Removed project {ProjectId} ({Path})", evt.ProjectId, evt.PathWithNamespace);
        }

        Observe(nameof(ProjectDestroyed), started);
    }

    /// <summary>The project's lock, then its wiki's: always in that order, so two holders never wait on each other.</summary>
    private async Task<IAsyncDisposable> LockBothAsync(long projectId, CancellationToken cancellationToken)
    {
        var project = await locks.AcquireAsync(projectId, options.Value.LockTimeout, cancellationToken);
        try
        {
            var wiki = await locks.AcquireAsync(projectId, options.Value.LockTimeout, cancellationToken, RepositoryKind.Wiki);
            return new Both(project, wiki);
        }
        catch
        {
            await project.DisposeAsync();
            throw;
        }
    }

    private sealed class Both(IAsyncDisposable first, IAsyncDisposable second) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await second.DisposeAsync();
            await first.DisposeAsync();
        }
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
