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
/// had arrived before a successful sync started is already covered by that sync and is skipped.
/// </summary>
/// <remarks>
/// Many messages are consumed at once (Secondary:ConcurrentMessages) but only a few fetches run at once
/// (Secondary:ConcurrentSyncs): every message notes its sequence first and then waits for its project's
/// lock and a fetch slot, so when a fetch starts it covers every event that has arrived by then. Fetches of
/// one repository start at most once per Secondary:CoalesceWindow, so a burst of pushes costs a few.
/// </remarks>
public sealed class RepositorySyncConsumer(
    ProjectRegistry registry,
    RepositoryLock locks,
    MirrorStore mirrors,
    SyncSlots slots,
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

        await using var lease = await locks.AcquireAsync(evt.ProjectId, options.Value.LockTimeout, cancellationToken);
        var before = await registry.GetAsync(evt.ProjectId, cancellationToken);
        if (before.LastSyncedSequence >= evt.Sequence)
        {
            Observe(evt, "coalesced", started);
            return;
        }

        // A repository synced moments ago is in a burst of pushes: wait out the rest of the window, so the
        // one fetch that follows covers every push that arrives meanwhile (holding the lock, not a slot).
        var window = options.Value.CoalesceWindow;
        if (before.SecondsSinceLastSync is { } since && since < window.TotalSeconds)
        {
            await Task.Delay(window - TimeSpan.FromSeconds(since), cancellationToken);
        }

        using var slot = await slots.EnterAsync(cancellationToken);
        var entry = await registry.GetAsync(evt.ProjectId, cancellationToken);
        if (entry.LastSyncedSequence >= evt.Sequence)
        {
            Observe(evt, "coalesced", started);
            return;
        }

        // Everything received before this point is covered by the fetch that starts now.
        var covers = Math.Max(entry.MaxSeenSequence, evt.Sequence);
        try
        {
            await Task.Run(() => mirrors.Sync(entry.PathWithNamespace), cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            await registry.MarkFailedAsync(evt.ProjectId, e.Message, CancellationToken.None);
            Observe(evt, "failed", started);
            throw;
        }

        await registry.MarkSyncedAsync(evt.ProjectId, covers, cancellationToken);
        logger.LogInformation("Synced {Project} (events up to {Covered})", entry.PathWithNamespace, covers);
        Observe(evt, "applied", started);
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
