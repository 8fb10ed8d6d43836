using Geo.Events.Contracts;

namespace Geo.Events.Secondary.Repositories;

/// <summary>
/// One repository of a project: its own (<see cref="RepositoryKind.Project"/>) or its wiki. What a sync is
/// coalesced by (<see cref="SyncCoordinator"/>) and locked by (<see cref="RepositoryLock"/>).
/// </summary>
public readonly record struct RepositoryId(long ProjectId, RepositoryKind Kind)
{
    /// <summary>
    /// The repository as one number, distinct for every project and kind: project id × 2 + kind (a kind is 0 or 1).
    /// The repository's advisory lock key is derived from it, so every instance of a secondary, of any
    /// version, must compute it the same way; a third kind needs a new scheme (and a plan for instances of
    /// both versions running side by side).
    /// </summary>
    public long Number => ProjectId * 2 + (long)Kind;
}
