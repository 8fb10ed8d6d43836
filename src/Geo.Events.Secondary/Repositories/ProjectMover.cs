using Geo.Events.Contracts;
using Geo.Events.Core.Repositories;
using Microsoft.Extensions.Options;

namespace Geo.Events.Secondary.Repositories;

/// <summary>
/// Moves an owner's mirrors to a new path: a project's repository, wiki and design repository together, or a group's
/// wiki. The registry's path first, if the move is newer than the one it holds, then one link swap per mirror, under
/// the owner's locks. Used for project_rename / project_transfer, for group_rename (and a group transfer the change
/// detector saw), and by verification when the primary's inventory names a path the registry does not have (a
/// rename whose hook never arrived).
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
    /// <param name="ownerKind">Which owner <paramref name="ownerId"/> is: a project (any of its kinds) or a group's wiki.</param>
    public async Task MoveAsync(long ownerId, string newPath, long sequence, string trigger, CancellationToken cancellationToken, RepositoryKind ownerKind = RepositoryKind.Project)
    {
        var kinds = RepositoryLayout.Siblings(ownerKind);
        await using (await LockAllAsync(ownerId, kinds, cancellationToken))
        {
            var entries = await registry.RenameAsync(ownerId, newPath, sequence, cancellationToken, kinds);
            if (entries.Count == 0)
            {
                // Never synced here: nothing on disk to move. The next push, or backfill, brings it under its new path.
                logger.LogInformation("{Kind} {OwnerId} renamed to {Path} before it was mirrored here; nothing to move", RepositoryLayout.Label(ownerKind), ownerId, newPath);
            }
            else if (entries.All(e => !e.Destroyed) && !RepositoryLayout.IsSelected(entries[0].RepositoryKind, entries[0].PathWithNamespace, options.Value.Namespaces))
            {
                // Moved out of the namespaces this secondary mirrors (selective sync): it is no longer ours.
                await Task.Run(() =>
                {
                    foreach (var entry in entries)
                    {
                        if (entry.LinkedPath is { } linked)
                        {
                            layout.Unlink(ownerId, entry.RepositoryKind, linked);
                        }

                        remover.Delete(ownerId, entry.RepositoryKind, entry.LinkedPath ?? entry.PathWithNamespace);
                    }
                }, cancellationToken);
                await registry.ForgetAsync(ownerId, CancellationToken.None, kinds);
                logger.LogInformation("{Kind} {OwnerId} moved to {Path}, outside Secondary:Namespaces; its mirrors were removed", RepositoryLayout.Label(ownerKind), ownerId, entries[0].PathWithNamespace);
            }
            else
            {
                // The owner's repositories move together: each is one link swap.
                foreach (var entry in entries.Where(e => !e.Destroyed && layout.Exists(ownerId, e.RepositoryKind) && e.LinkedPath != e.PathWithNamespace))
                {
                    await Task.Run(() => layout.Link(ownerId, entry.RepositoryKind, entry.PathWithNamespace, entry.LinkedPath), cancellationToken);
                    await registry.SetLinkedPathAsync(ownerId, entry.RepositoryKind, entry.PathWithNamespace, CancellationToken.None);
                    logger.LogInformation("Moved {Kind} of {OwnerId} from {Old} to {New} ({Trigger})", RepositoryLayout.Label(entry.RepositoryKind), ownerId, entry.LinkedPath, entry.PathWithNamespace, trigger);
                }
            }
        }
    }

    /// <summary>The locks of the owner's <paramref name="kinds"/>, always in that order, so two holders never wait on each other.</summary>
    public async Task<IAsyncDisposable> LockAllAsync(long ownerId, IReadOnlyList<RepositoryKind> kinds, CancellationToken cancellationToken)
    {
        var held = new List<IAsyncDisposable>();
        try
        {
            foreach (var kind in kinds)
            {
                held.Add(await locks.AcquireAsync(new RepositoryId(ownerId, kind), syncOptions.Value.LockTimeout, cancellationToken));
            }

            return new All(held);
        }
        catch
        {
            await new All(held).DisposeAsync();
            throw;
        }
    }

    private sealed class All(List<IAsyncDisposable> held) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            for (var i = held.Count - 1; i >= 0; i--)
            {
                await held[i].DisposeAsync();
            }
        }
    }
}
