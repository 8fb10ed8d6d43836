using Geo.Events.Contracts;

namespace Geo.Events.Secondary.Repositories;

/// <summary>
/// One repository: its kind and its owner's id (a project's for its repository, wiki and design repository; a
/// snippet's; a group's for its wiki). What a sync is coalesced by (<see cref="SyncCoordinator"/>) and locked by
/// (<see cref="RepositoryLock"/>); two kinds with equal owner ids are different repositories.
/// </summary>
public readonly record struct RepositoryId(long OwnerId, RepositoryKind Kind);
