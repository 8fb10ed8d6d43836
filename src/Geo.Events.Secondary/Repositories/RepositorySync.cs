using System.Diagnostics;
using Geo.Events.Contracts;
using Geo.Events.Core.Observability;
using Geo.Events.Core.Repositories;
using Microsoft.Extensions.Options;

namespace Geo.Events.Secondary.Repositories;

/// <summary>
/// One way to bring a project's mirror level with the primary, shared by the event consumer and by
/// backfill / verification. Within this instance, requests for a repository that already has a sync
/// waiting join it (<see cref="SyncCoordinator"/>); across instances, the repository's advisory lock and the
/// registry's sequences decide. A sync waits out Secondary:CoalesceWindow after the repository's previous
/// one, then a fetch slot (Secondary:ConcurrentSyncs), then the lock, and only then reads what it covers.
/// </summary>
public sealed class RepositorySync(
    ProjectRegistry registry,
    RepositoryLock locks,
    MirrorFetcher fetcher,
    MirrorLayout layout,
    SyncSlots slots,
    SyncCoordinator coordinator,
    IOptions<SyncOptions> options,
    SafetyNet.AtticRefs attic,
    ILogger<RepositorySync> logger)
{
    /// <summary>
    /// Notes <paramref name="sequence"/> for the project and syncs it unless a sync that started later
    /// already covers it. Returns true when this call fetched.
    /// </summary>
    /// <param name="primaryChecksum">The primary's refs checksum the event names (the change detector's), if any.</param>
    public async Task<bool> SyncAsync(long projectId, RepositoryKind kind, string path, long sequence, CancellationToken cancellationToken, string? primaryChecksum = null)
    {
        var sinceLastSync = await registry.NoteSeenAsync(projectId, kind, path, sequence, cancellationToken, primaryChecksum);
        var fetched = false;
        var repository = new RepositoryId(projectId, kind);
        var ran = await coordinator.RunAsync(repository, async closeToJoiners => fetched = await RunAsync(repository, closeToJoiners, sinceLastSync, force: false, cancellationToken));
        return ran && fetched;
    }

    /// <summary>
    /// Fetches whatever the sequences say: verification found the mirror differs from the primary although
    /// every event it received is covered (a hook GitLab never sent). Does not join waiting syncs.
    /// </summary>
    public async Task<bool> ForceAsync(long projectId, string path, long sequence, CancellationToken cancellationToken, RepositoryKind kind = RepositoryKind.Project)
    {
        await registry.NoteSeenAsync(projectId, kind, path, sequence, cancellationToken);
        return await RunAsync(new RepositoryId(projectId, kind), () => { }, sinceLastSync: null, force: true, cancellationToken);
    }

    private async Task<bool> RunAsync(RepositoryId repository, Action closeToJoiners, TimeSpan? sinceLastSync, bool force, CancellationToken cancellationToken)
    {
        var (projectId, kind) = repository;
        // A repository synced moments ago is in a burst of pushes: wait out the rest of the window, so the
        // one fetch that follows covers every push that arrives meanwhile. (How long ago came back with the
        // note of this event's arrival, read a moment ago: no extra round trip.)
        var window = options.Value.CoalesceWindow;
        if (!force && sinceLastSync is { } since && since < window)
        {
            await Task.Delay(window - since, cancellationToken);
        }

        using var slot = await slots.EnterAsync(cancellationToken);
        await using var lease = await locks.AcquireAsync(repository, options.Value.LockTimeout, cancellationToken);
        // Closed to joiners only once the lock is held: the pushes that arrive while an earlier sync of this repository
        // fetches join this one, which is what coalesces a burst (closing before the lock was asked for, to read the
        // entry in the lock's round trip, took 5-6 fetches instead of 3 for 100 pushes in a second: bench scenario 4).
        closeToJoiners();

        // Everything noted before this point is covered by the fetch that starts now.
        var entry = await registry.GetAsync(projectId, kind, cancellationToken);
        if (entry.Destroyed || (!force && entry.LastSyncedSequence >= entry.MaxSeenSequence))
        {
            return false;
        }

        if (entry.PathTaken)
        {
            // A late event under a path another project has taken since: fetching it would fetch the other
            // project, and linking it would hide the other's mirror. This project's own rename or destroy follows.
            // Its events are covered all the same: nothing is left for them to do.
            logger.LogInformation("Not syncing project {ProjectId} at {Path}: a newer event gave the path to another project", projectId, entry.PathWithNamespace);
            await registry.MarkSyncedAsync(projectId, kind, entry.MaxSeenSequence, TimeSpan.Zero, CancellationToken.None, absent: false, linkedPath: null, lease: lease);
            return false;
        }

        bool exists;
        var kept = new List<MirrorFetcher.AtticRef>();
        string? mirrorChecksum = null;
        var fetchStarted = Stopwatch.GetTimestamp();
        StageTrace.Mark("started", entry.MaxSeenSequence);
        try
        {
            exists = await Task.Run(() =>
            {
                if (!fetcher.Sync(projectId, kind, entry.PathWithNamespace, kept))
                {
                    return false;
                }

                layout.Link(projectId, kind, entry.PathWithNamespace, entry.LinkedPath);
                mirrorChecksum = RefsChecksum.Compute(layout.DataPath(projectId, kind)); // what the status compares with the primary's
                return true;
            }, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            await registry.MarkFailedAsync(projectId, kind, e.Message, CancellationToken.None);
            throw;
        }

        StageTrace.Mark("fetched", entry.MaxSeenSequence);
        if (kept.Count > 0)
        {
            await attic.AddAsync(projectId, kind, kept, CancellationToken.None);
        }

        // Not cancellable: the link on disk has changed, and the registry must say which it is.
        await registry.MarkSyncedAsync(projectId, kind, entry.MaxSeenSequence, Stopwatch.GetElapsedTime(fetchStarted), CancellationToken.None, absent: !exists,
            linkedPath: exists ? entry.PathWithNamespace : null, mirrorChecksum: mirrorChecksum, lease: lease);
        logger.LogInformation("Synced the {Kind} of {Owner} {Path}{Absent} (events up to {Covered}{Forced})", RepositoryLayout.Label(kind), projectId,
            entry.PathWithNamespace, exists ? "" : ": the primary has none", entry.MaxSeenSequence, force ? ", forced" : "");
        return exists;
    }
}
