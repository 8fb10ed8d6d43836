using System.Diagnostics;
using Geo.Events.Contracts;
using Geo.Events.Core.Observability;
using Geo.Events.Core.Paths;
using MassTransit;
using Microsoft.Extensions.Options;

namespace Geo.Events.Secondary.Repositories;

/// <summary>
/// Applies <see cref="RepositoryChanged"/>: brings the project's mirror level with the primary. Idempotent
/// and order-safe because a sync converges to the primary's current refs; coalescing because an event that
/// had arrived before a successful sync started is covered by that sync.
/// </summary>
/// <remarks>
/// Every event first notes its sequence in the registry. Within this instance, events for a repository
/// that already has a sync waiting join it (<see cref="SyncCoordinator"/>); across instances, the
/// repository's advisory lock and the registry's sequences decide. A sync waits out
/// Secondary:CoalesceWindow after the repository's previous one, then a fetch slot
/// (Secondary:ConcurrentSyncs), then the lock, and only then reads what it covers.
/// </remarks>
public sealed class RepositorySyncConsumer(
    ProjectRegistry registry,
    RepositoryLock locks,
    MirrorStore mirrors,
    SyncSlots slots,
    SyncCoordinator coordinator,
    IOptions<SecondaryOptions> options,
    ILogger<RepositorySyncConsumer> logger) : IConsumer<RepositoryChanged>
{
    public async Task Consume(ConsumeContext<RepositoryChanged> context)
    {
        var evt = context.Message;
        var cancellationToken = context.CancellationToken;
        var started = Stopwatch.GetTimestamp();

        // Checked again here: a replayed or forged message must not reach the disk with a bad path.
        var problem = ProjectPath.Problem(evt.PathWithNamespace);
        if (problem is not null)
        {
            throw new InvalidProjectPathException(evt.PathWithNamespace ?? "", problem);
        }

        await registry.NoteSeenAsync(evt.ProjectId, evt.PathWithNamespace, evt.Sequence, cancellationToken);
        var fetched = false;
        try
        {
            var ran = await coordinator.RunAsync(evt.ProjectId, async closeToJoiners => fetched = await SyncAsync(evt.ProjectId, closeToJoiners, cancellationToken));
            Observe(evt, ran && fetched ? "applied" : "coalesced", started);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Observe(evt, "failed", started);
            throw;
        }
    }

    /// <summary>Runs one sync for the project; returns false when another instance's sync already covered everything noted.</summary>
    private async Task<bool> SyncAsync(long projectId, Action closeToJoiners, CancellationToken cancellationToken)
    {
        // A repository synced moments ago is in a burst of pushes: wait out the rest of the window, so the
        // one fetch that follows covers every push that arrives meanwhile.
        var window = options.Value.CoalesceWindow;
        if ((await registry.GetAsync(projectId, cancellationToken)).SecondsSinceLastSync is { } since && since < window.TotalSeconds)
        {
            await Task.Delay(window - TimeSpan.FromSeconds(since), cancellationToken);
        }

        using var slot = await slots.EnterAsync(cancellationToken);
        await using var lease = await locks.AcquireAsync(projectId, options.Value.LockTimeout, cancellationToken);
        closeToJoiners();

        // Everything noted before this point is covered by the fetch that starts now.
        var entry = await registry.GetAsync(projectId, cancellationToken);
        if (entry.LastSyncedSequence >= entry.MaxSeenSequence || entry.Destroyed)
        {
            return false;
        }

        try
        {
            await Task.Run(() =>
            {
                mirrors.Sync(projectId, entry.PathWithNamespace);
                mirrors.Link(projectId, entry.PathWithNamespace, entry.LinkedPath);
            }, cancellationToken);
            await registry.SetLinkedPathAsync(projectId, entry.PathWithNamespace, CancellationToken.None);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            await registry.MarkFailedAsync(projectId, e.Message, CancellationToken.None);
            throw;
        }

        await registry.MarkSyncedAsync(projectId, entry.MaxSeenSequence, cancellationToken);
        logger.LogInformation("Synced {Project} (events up to {Covered})", entry.PathWithNamespace, entry.MaxSeenSequence);
        return true;
    }

    private static void Observe(RepositoryChanged evt, string outcome, long started)
    {
        GeoMetrics.EventsApplied.WithLabels(nameof(RepositoryChanged), outcome).Inc();
        GeoMetrics.ApplyDuration.WithLabels(nameof(RepositoryChanged)).Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
        if (outcome != "failed")
        {
            GeoMetrics.ReplicationLag.WithLabels(nameof(RepositoryChanged)).Observe((DateTimeOffset.UtcNow - evt.OccurredAt).TotalSeconds);
        }
    }
}
