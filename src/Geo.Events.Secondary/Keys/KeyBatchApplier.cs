using Geo.Events.Core.Storage;
using Prometheus;

namespace Geo.Events.Secondary.Keys;

/// <summary>
/// Group commit of key events (<see cref="GroupCommit{TItem, TResult}"/>): the events the consumers hand in while a write
/// is under way are applied together in one transaction (<see cref="KeyRegistry.ApplyAsync"/>), followed by one request
/// to rewrite authorized_keys, so a burst of key events costs a few transactions and rewrites, not one per event. Each
/// consumer awaits the outcome of its own event. When a batch fails, its events are applied again one by one, so a key
/// that fails in the database fails alone and goes through the retry / error queue path with its own reason, while its
/// neighbours are applied.
/// </summary>
public sealed class KeyBatchApplier
{
    /// <summary>At most this many events per transaction (the queue's Secondary:ConcurrentMessages bounds it first).</summary>
    public const int MaxBatch = 1000;

    private static readonly Counter Batches = Metrics.CreateCounter(
        "geo_key_batches_total", "Transactions that applied key events (geo_events_applied_total counts the events they held).");

    private readonly GroupCommit<KeyRegistry.Change, bool> _commit;

    public KeyBatchApplier(KeyRegistry registry, AuthorizedKeysWriter writer, ILogger<KeyBatchApplier> logger)
    {
        async Task<bool[]> Apply(IReadOnlyList<KeyRegistry.Change> changes)
        {
            var changed = await registry.ApplyAsync(changes, CancellationToken.None);
            if (changed.Any(c => c))
            {
                writer.Changed();
            }

            return changed;
        }

        // A batch counts once, whether it committed whole or was applied one by one after it failed.
        _commit = new(
            async changes =>
            {
                var changed = await Apply(changes);
                Batches.Inc();
                return changed;
            },
            async change => (await Apply([change]))[0],
            itemMayBeAtFault: _ => true,
            maxBatch: () => MaxBatch,
            retryingOneByOne: (count, e) =>
            {
                Batches.Inc();
                logger.LogWarning("A batch of {Count} key events failed ({Error}); applying them one by one", count, e.Message);
            });
    }

    /// <summary>Applies <paramref name="change"/> with whatever else has gathered; true when it changed the registry.</summary>
    public Task<bool> ApplyAsync(KeyRegistry.Change change, CancellationToken cancellationToken) => _commit.CommitAsync(change, cancellationToken);
}
