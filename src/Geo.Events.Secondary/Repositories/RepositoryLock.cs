using Geo.Events.Secondary.Locking;

namespace Geo.Events.Secondary.Repositories;

/// <summary>
/// One writer per repository across every instance of this secondary (<see cref="AdvisoryLock"/>), held for as
/// long as the sync, move or removal runs.
/// </summary>
public sealed class RepositoryLock(AdvisoryLock locks)
{
    public Task<IAsyncDisposable> AcquireAsync(RepositoryId repository, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var number = repository.Number;
        var key = unchecked((int)(number ^ (number >> 32)));
        return locks.AcquireAsync(AdvisoryLock.RepositorySpace, key, timeout, cancellationToken);
    }
}
