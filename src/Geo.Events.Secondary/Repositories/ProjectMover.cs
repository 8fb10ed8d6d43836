using Geo.Events.Contracts;
using Geo.Events.Core.Paths;
using Microsoft.Extensions.Options;

namespace Geo.Events.Secondary.Repositories;

/// <summary>
/// Moves a project (its repository and its wiki) to a new path: the registry's path if the move is newer
/// than the one it holds, then one link swap per mirror, under the project's locks. Used for
/// project_rename / project_transfer, for group_rename, and by verification when the primary's inventory
/// names a path the registry does not have (a rename whose hook never arrived).
/// </summary>
public sealed class ProjectMover(
    ProjectRegistry registry,
    RepositoryLock locks,
    MirrorLayout layout,
    MirrorRemover remover,
    IOptions<SecondaryOptions> options,
    IOptions<SyncOptions> syncOptions,
    ILogger<ProjectMover> logger)
{
    public async Task MoveAsync(long projectId, string newPath, long sequence, string trigger, CancellationToken cancellationToken)
    {
        await using (await LockBothAsync(projectId, cancellationToken))
        {
            var entries = await registry.RenameAsync(projectId, newPath, sequence, cancellationToken);
            if (entries.Count == 0)
            {
                // Never synced here: nothing on disk to move. The next push, or backfill, brings it under its new path.
                logger.LogInformation("Project {ProjectId} renamed to {Path} before it was mirrored here; nothing to move", projectId, newPath);
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
                            layout.Unlink(projectId, entry.RepositoryKind, linked);
                        }

                        remover.Delete(projectId, entry.RepositoryKind, entry.LinkedPath ?? entry.PathWithNamespace);
                    }
                }, cancellationToken);
                await registry.ForgetAsync(projectId, CancellationToken.None);
                logger.LogInformation("Project {ProjectId} moved to {Path}, outside Secondary:Namespaces; its mirrors were removed", projectId, entries[0].PathWithNamespace);
            }
            else
            {
                // The project and its wiki move together: each is one link swap.
                foreach (var entry in entries.Where(e => !e.Destroyed && layout.Exists(projectId, e.RepositoryKind) && e.LinkedPath != e.PathWithNamespace))
                {
                    await Task.Run(() => layout.Link(projectId, entry.RepositoryKind, entry.PathWithNamespace, entry.LinkedPath), cancellationToken);
                    await registry.SetLinkedPathAsync(projectId, entry.RepositoryKind, entry.PathWithNamespace, CancellationToken.None);
                    logger.LogInformation("Moved {Kind} of project {ProjectId} from {Old} to {New} ({Trigger})", entry.RepositoryKind, projectId, entry.LinkedPath, entry.PathWithNamespace, trigger);
                }
            }
        }
    }

    /// <summary>The project's lock, then its wiki's: always in that order, so two holders never wait on each other.</summary>
    public async Task<IAsyncDisposable> LockBothAsync(long projectId, CancellationToken cancellationToken)
    {
        var project = await locks.AcquireAsync(new RepositoryId(projectId, RepositoryKind.Project), syncOptions.Value.LockTimeout, cancellationToken);
        try
        {
            var wiki = await locks.AcquireAsync(new RepositoryId(projectId, RepositoryKind.Wiki), syncOptions.Value.LockTimeout, cancellationToken);
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
}
