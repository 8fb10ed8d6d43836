using Geo.Events.Contracts;
using Geo.Events.Secondary.SafetyNet;

namespace Geo.Events.Secondary.Repositories;

/// <summary>
/// Destroys a project here (project_destroy): tombstone, readable links gone at once, mirrors into the trash. Asks the
/// safety net first: a project restored from the trash is held (only the tombstone is written), and the
/// mass-destruction guard may hold the destroy (nothing changes until an admin decides).
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
        await using (await mover.LockBothAsync(projectId, cancellationToken))
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
                    await ApplyLockedAsync(projectId, path, sequence, entries, cancellationToken);
                    break;
            }

            return decision;
        }
    }

    /// <summary>Applies a destroy the guard held (<c>geo-admin guard release</c>), with the project's current links.</summary>
    public async Task ApplyHeldAsync(DestroyGuard.Held held, CancellationToken cancellationToken)
    {
        await using (await mover.LockBothAsync(held.ProjectId, cancellationToken))
        {
            if (await restored.FindAsync(held.ProjectId, cancellationToken) is null)
            {
                await ApplyLockedAsync(held.ProjectId, held.Path, held.Sequence, await registry.AllKindsAsync(held.ProjectId, cancellationToken), cancellationToken);
            }

            await guard.ForgetHeldAsync(held.ProjectId, cancellationToken);
        }
    }

    private async Task ApplyLockedAsync(long projectId, string path, long sequence, IReadOnlyList<ProjectRegistry.Entry> entries, CancellationToken cancellationToken)
    {
        // Tombstone first: if we die between the two steps, the replayed event finishes the removal and no
        // sync recreates the mirror meanwhile.
        await registry.DestroyAsync(projectId, path, sequence, cancellationToken);
        await Task.Run(() =>
        {
            foreach (var kind in new[] { RepositoryKind.Project, RepositoryKind.Wiki })
            {
                var entry = entries.FirstOrDefault(e => e.RepositoryKind == kind);
                foreach (var linked in new[] { entry?.LinkedPath, entry?.PathWithNamespace, path }.OfType<string>().Distinct())
                {
                    layout.Unlink(projectId, kind, linked);
                }

                remover.Delete(projectId, kind, entry?.LinkedPath ?? entry?.PathWithNamespace ?? path);
            }
        }, cancellationToken);
        logger.LogInformation("Removed project {ProjectId} ({Path})", projectId, path);
    }
}
