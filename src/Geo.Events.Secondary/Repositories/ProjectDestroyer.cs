using Geo.Events.Contracts;
using Geo.Events.Core.Repositories;
using Geo.Events.Secondary.SafetyNet;

namespace Geo.Events.Secondary.Repositories;

/// <summary>
/// Destroys a project here (project_destroy): tombstone, readable links gone at once, mirrors into the trash. Asks the
/// safety net first: a project restored from the trash is held (only the tombstone is written), and the
/// mass-destruction guard may hold the destroy (nothing changes until an admin decides). A project's destroy takes its
/// repository, wiki and design repository (<see cref="RepositoryLayout.ProjectKinds"/>); a group's wikis go through
/// <see cref="DestroyUnguardedAsync"/>.
/// </summary>
public sealed class ProjectDestroyer(
    ProjectRegistry registry,
    ProjectMover mover,
    MirrorLayout layout,
    MirrorRemover remover,
    RestoredMirrors restored,
    DestroyGuard guard,
    ILogger<ProjectDestroyer> logger)
{
    public async Task<DestroyGuard.Decision> DestroyAsync(long projectId, string path, long sequence, CancellationToken cancellationToken)
    {
        await using (await mover.LockAllAsync(projectId, RepositoryLayout.ProjectKinds, cancellationToken))
        {
            if (await restored.FindAsync(projectId, cancellationToken) is { } held)
            {
                await registry.DestroyAsync(projectId, path, sequence, cancellationToken);
                logger.LogWarning("Project {ProjectId} ({Path}) was restored from the trash to {Restored} and is held: its mirror stays until 'geo-admin trash release'", projectId, path, held.Path);
                return DestroyGuard.Decision.Apply;
            }

            var entries = await registry.AllKindsAsync(projectId, cancellationToken);
            var live = entries.Any(e => !e.Destroyed && layout.Exists(projectId, e.RepositoryKind));
            var decision = await guard.AdmitAsync(projectId, path, sequence, live, cancellationToken);
            switch (decision)
            {
                case DestroyGuard.Decision.Held:
                    logger.LogWarning("Destroy of project {ProjectId} ({Path}) held by the mass-destruction guard", projectId, path);
                    break;
                case DestroyGuard.Decision.Discarded:
                    logger.LogWarning("Destroy of project {ProjectId} ({Path}) not applied: an admin discarded it ('geo-admin guard discard')", projectId, path);
                    break;
                default:
                    await ApplyLockedAsync(projectId, RepositoryLayout.ProjectKinds, path, sequence, entries, cancellationToken);
                    break;
            }

            return decision;
        }
    }

    /// <summary>Applies a destroy the guard held (<c>geo-admin guard release</c>), with the project's current links.</summary>
    public async Task ApplyHeldAsync(DestroyGuard.Held held, CancellationToken cancellationToken)
    {
        await using (await mover.LockAllAsync(held.ProjectId, RepositoryLayout.ProjectKinds, cancellationToken))
        {
            if (await restored.FindAsync(held.ProjectId, cancellationToken) is null)
            {
                await ApplyLockedAsync(held.ProjectId, RepositoryLayout.ProjectKinds, held.Path, held.Sequence, await registry.AllKindsAsync(held.ProjectId, cancellationToken), cancellationToken);
            }

            await guard.ForgetHeldAsync(held.ProjectId, cancellationToken);
        }
    }

    /// <summary>
    /// Destroys an owner's <paramref name="kinds"/> without asking the guard (group_destroy's wikis: the guard and the
    /// trash restore count projects). Their mirrors still go to the trash.
    /// </summary>
    public async Task DestroyUnguardedAsync(long ownerId, IReadOnlyList<RepositoryKind> kinds, string path, long sequence, CancellationToken cancellationToken)
    {
        await using (await mover.LockAllAsync(ownerId, kinds, cancellationToken))
        {
            await ApplyLockedAsync(ownerId, kinds, path, sequence, await registry.AllKindsAsync(ownerId, cancellationToken, kinds), cancellationToken);
        }
    }

    private async Task ApplyLockedAsync(
        long ownerId, IReadOnlyList<RepositoryKind> kinds, string path, long sequence, IReadOnlyList<ProjectRegistry.Entry> entries, CancellationToken cancellationToken)
    {
        // Tombstone first: if we die between the two steps, the replayed event finishes the removal and no
        // sync recreates the mirror meanwhile.
        await registry.DestroyAsync(ownerId, path, sequence, cancellationToken, kinds);
        await Task.Run(() =>
        {
            foreach (var kind in kinds)
            {
                var entry = entries.FirstOrDefault(e => e.RepositoryKind == kind);
                foreach (var linked in new[] { entry?.LinkedPath, entry?.PathWithNamespace, path }.OfType<string>().Distinct())
                {
                    layout.Unlink(ownerId, kind, linked);
                }

                remover.Delete(ownerId, kind, entry?.LinkedPath ?? entry?.PathWithNamespace ?? path);
            }
        }, cancellationToken);
        logger.LogInformation("Removed the {Kinds} of {OwnerId} ({Path})", string.Join(", ", kinds.Select(RepositoryLayout.Label)), ownerId, path);
    }
}
