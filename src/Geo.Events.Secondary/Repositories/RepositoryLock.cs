using Geo.Events.Contracts;
using Geo.Events.Secondary.Locking;

namespace Geo.Events.Secondary.Repositories;

/// <summary>
/// One writer per repository across every instance of this secondary (<see cref="AdvisoryLock"/>), held for as
/// long as the sync, move or removal runs.
/// </summary>
public sealed class RepositoryLock(AdvisoryLock locks)
{
    public Task<AdvisoryLock.Lease> AcquireAsync(RepositoryId repository, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var (space, key) = LockKey(repository);
        return locks.AcquireAsync(space, key, timeout, cancellationToken);
    }

    private static (int Space, int Key) LockKey(RepositoryId repository)
    {
        var (space, number) = Key(repository);
        return (space, unchecked((int)(number ^ (number >> 32))));
    }

    /// <summary>
    /// The repository's lock, as (space, number). Every instance of a secondary, of any version, must compute it the
    /// same way: a project's repository and wiki keep the first scheme (owner id × 2 + kind, in
    /// <see cref="AdvisoryLock.RepositorySpace"/>), so instances of the previous version still exclude this one;
    /// every later kind has a space of its own (<see cref="AdvisoryLock.RepositorySpace"/> + 0x10 × kind), so a group's
    /// wiki and the project with the group's id never share a lock.
    /// </summary>
    public static (int Space, long Number) Key(RepositoryId repository) => repository.Kind is RepositoryKind.Project or RepositoryKind.Wiki
        ? (AdvisoryLock.RepositorySpace, repository.OwnerId * 2 + (long)repository.Kind)
        : (AdvisoryLock.RepositorySpace + (0x10 * (int)repository.Kind), repository.OwnerId);
}
