using Geo.Events.Contracts.Api;
using Geo.Events.Core.Observability;

namespace Geo.Events.Secondary.SafetyNet;

/// <summary>
/// What the safety net keeps and holds: for the status report, for /metrics, and for whoever serves clones
/// (<see cref="HoldAsync"/>: a mirror held by the safety net must not be served as the project's current state).
/// </summary>
public sealed class SafetyNetState(MirrorTrash trash, RestoredMirrors restored, DestroyGuard guard, AtticRefs attic, Microsoft.Extensions.Options.IOptions<SafetyNetOptions> options)
{
    /// <summary>The project's restored mirror is held until <c>geo-admin trash release</c>.</summary>
    public const string Restored = "restored";

    /// <summary>The mass-destruction guard holds the project's destroy: it is gone from the primary.</summary>
    public const string DestroyHeld = "destroy-held";

    /// <summary>
    /// Why the safety net holds project <paramref name="projectId"/>'s mirrors (<see cref="Restored"/>,
    /// <see cref="DestroyHeld"/>), or null when it holds nothing of it. A mirror in the trash has no readable path.
    /// </summary>
    public async Task<string?> HoldAsync(long projectId, CancellationToken cancellationToken) =>
        await restored.FindAsync(projectId, cancellationToken) is not null ? Restored
        : await guard.IsHeldAsync(projectId, cancellationToken) ? DestroyHeld
        : null;

    public async Task<SafetyNetStatus> CollectAsync(CancellationToken cancellationToken)
    {
        var entries = trash.Entries();
        var state = await guard.StateAsync(cancellationToken);
        Observe(state, entries.Count);
        return new SafetyNetStatus
        {
            Trash = entries.Take(SecondaryStatus.MaxTrashEntries).Select(e => new TrashEntryStatus
            {
                Name = e.Name,
                ProjectId = e.Note.ProjectId,
                Kind = e.Note.Kind,
                Path = e.Note.Path,
                TrashedAt = e.TrashedAt,
                PurgeAt = e.TrashedAt + trash.Retention,
                SizeBytes = trash.SizeOf(e),
            }).ToList(),
            Restored = (await restored.AllAsync(cancellationToken)).Select(r => new RestoredMirrorStatus
            {
                ProjectId = r.ProjectId,
                Path = r.Path,
                RestoredAt = DateTime.SpecifyKind(r.RestoredAt, DateTimeKind.Utc),
            }).ToList(),
            Guarded = state.Guarded,
            HeldDestroys = state.HeldCount,
            GuardedSince = state.Since is { } since ? DateTime.SpecifyKind(since, DateTimeKind.Utc) : null,
            GuardReason = state.Reason,
            Attic = (await attic.ListAsync(null, SecondaryStatus.MaxTrashEntries, cancellationToken)).Select(a => new AtticEntryStatus
            {
                ProjectId = a.ProjectId,
                Kind = Repositories.MirrorLayout.KindName((Contracts.RepositoryKind)a.Kind),
                Ref = a.Ref,
                OriginalRef = a.OriginalRef,
                Sha = a.Sha,
                KeptAt = DateTime.SpecifyKind(a.KeptAt, DateTimeKind.Utc),
                ExpiresAt = DateTime.SpecifyKind(a.KeptAt, DateTimeKind.Utc) + options.Value.OverwriteRetention,
            }).ToList(),
        };
    }

    /// <summary>Sets the safety net's gauges (also called when Prometheus scrapes).</summary>
    public async Task ObserveAsync(CancellationToken cancellationToken) => Observe(await guard.StateAsync(cancellationToken), trash.Entries().Count);

    private static void Observe(DestroyGuard.State state, int trashEntries)
    {
        GeoMetrics.DestroyGuarded.Set(state.Guarded ? 1 : 0);
        GeoMetrics.HeldDestroys.Set(state.HeldCount);
        GeoMetrics.TrashEntries.Set(trashEntries);
    }
}
