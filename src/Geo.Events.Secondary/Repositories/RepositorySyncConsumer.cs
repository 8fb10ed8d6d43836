using System.Diagnostics;
using Geo.Events.Contracts;
using Geo.Events.Core.Observability;
using Geo.Events.Core.Paths;
using Geo.Events.Core.Repositories;
using MassTransit;
using Microsoft.Extensions.Options;

namespace Geo.Events.Secondary.Repositories;

/// <summary>
/// Applies <see cref="RepositoryChanged"/>: brings the project's mirror level with the primary. Idempotent
/// and order-safe because a sync converges to the primary's current refs; coalescing because an event that
/// had arrived before a successful sync started is covered by that sync (see <see cref="RepositorySync"/>).
/// Projects outside Secondary:Namespaces are acknowledged and left alone.
/// </summary>
public sealed class RepositorySyncConsumer(RepositorySync sync, MirrorFetcher fetcher, IOptions<SecondaryOptions> options) : IConsumer<RepositoryChanged>
{
    public async Task Consume(ConsumeContext<RepositoryChanged> context)
    {
        var evt = context.Message;
        var started = Stopwatch.GetTimestamp();
        StageTrace.Mark("delivered", evt.Sequence);

        // Checked again here: a replayed or forged message must not reach the disk with a bad path.
        if (!RepositoryLayout.IsKnown(evt.Kind))
        {
            throw new UnknownRepositoryKindException(evt.Kind);
        }

        var problem = RepositoryLayout.PathProblem(evt.Kind, evt.PathWithNamespace);
        if (problem is not null)
        {
            throw new InvalidProjectPathException(evt.PathWithNamespace ?? "", problem);
        }

        if (!RepositoryLayout.IsSelected(evt.Kind, evt.PathWithNamespace, options.Value.Namespaces))
        {
            Observe(evt, "filtered", started);
            return;
        }

        // The change detector's event names the refs it saw: a mirror that has them already (a hook's sync
        // brought them) needs no fetch, so hooked pushes cost no extra fetch because of the detector.
        if (evt.RefsChecksum is { } checksum && await Task.Run(() => fetcher.AlreadyAt(evt.ProjectId, evt.Kind, checksum, evt.Head), context.CancellationToken))
        {
            Observe(evt, "unchanged", started);
            return;
        }

        try
        {
            var fetched = await sync.SyncAsync(evt.ProjectId, evt.Kind, evt.PathWithNamespace, evt.Sequence, context.CancellationToken, evt.RefsChecksum);
            Observe(evt, fetched ? "applied" : "coalesced", started);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Observe(evt, "failed", started);
            throw;
        }
    }

    private static void Observe(RepositoryChanged evt, string outcome, long started)
    {
        GeoMetrics.EventsApplied.WithLabels(nameof(RepositoryChanged), outcome).Inc();
        GeoMetrics.ApplyDuration.WithLabels(nameof(RepositoryChanged)).Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
        if (outcome is "applied" or "coalesced")
        {
            StageTrace.Mark("applied", evt.Sequence);
            GeoMetrics.ReplicationLag.WithLabels(nameof(RepositoryChanged)).Observe((DateTimeOffset.UtcNow - evt.OccurredAt).TotalSeconds);
        }
    }
}
