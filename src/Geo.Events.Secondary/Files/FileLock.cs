using Geo.Events.Contracts;
using Geo.Events.Secondary.Locking;

namespace Geo.Events.Secondary.Files;

/// <summary>One writer per file across every instance of this secondary (<see cref="AdvisoryLock"/>).</summary>
public sealed class FileLock(AdvisoryLock locks)
{
    public Task<AdvisoryLock.Lease> AcquireAsync(FileKind kind, string path, TimeSpan timeout, CancellationToken cancellationToken) =>
        locks.AcquireAsync(AdvisoryLock.FileSpace, (int)kind + ":" + path, timeout, cancellationToken);
}
