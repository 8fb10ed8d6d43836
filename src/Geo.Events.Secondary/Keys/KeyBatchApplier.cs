using Prometheus;

namespace Geo.Events.Secondary.Keys;

/// <summary>
/// Gathers the key events that the consumers hand in while a write is under way, and applies them in one transaction
/// (<see cref="KeyRegistry.ApplyAsync"/>), followed by one request to rewrite authorized_keys: a burst of key events costs
/// a few transactions and rewrites, not one per event. Each consumer awaits the outcome of its own event. When a
/// batch fails, its events are applied again one by one, so a key that fails in the database fails alone and goes
/// through the retry / error queue path with its own reason, while its neighbours are applied.
/// </summary>
public sealed class KeyBatchApplier(KeyRegistry registry, AuthorizedKeysWriter writer, ILogger<KeyBatchApplier> logger)
{
    /// <summary>At most this many events per transaction (the queue's Secondary:ConcurrentMessages bounds it first).</summary>
    public const int MaxBatch = 1000;

    private static readonly Counter Batches = Metrics.CreateCounter(
        "geo_key_batches_total", "Transactions that applied key events (geo_events_applied_total counts the events they held).");

    private readonly Lock _gate = new();
    private readonly List<Pending> _gathered = [];
    private bool _writing;

    /// <summary>Applies <paramref name="change"/> with whatever else has gathered; true when it changed the registry.</summary>
    public async Task<bool> ApplyAsync(KeyRegistry.Change change, CancellationToken cancellationToken)
    {
        var pending = new Pending(change);
        bool startWriter;
        lock (_gate)
        {
            _gathered.Add(pending);
            startWriter = !_writing;
            _writing = true;
        }

        if (startWriter)
        {
            // Detached from this consumer: its cancellation must not cut a batch that carries other consumers' events.
            _ = Task.Run(WriteAsync, CancellationToken.None);
        }

        return await pending.Outcome.Task.WaitAsync(cancellationToken);
    }

    private async Task WriteAsync()
    {
        while (true)
        {
            List<Pending> batch;
            lock (_gate)
            {
                if (_gathered.Count == 0)
                {
                    _writing = false;
                    return;
                }

                var take = Math.Min(_gathered.Count, MaxBatch);
                batch = _gathered.GetRange(0, take);
                _gathered.RemoveRange(0, take);
            }

            try
            {
                await ApplyBatchAsync(batch);
            }
            catch (Exception e)
            {
                // Never leaves an event unanswered, whatever failed.
                foreach (var pending in batch)
                {
                    pending.Outcome.TrySetException(e);
                }
            }
        }
    }

    private async Task ApplyBatchAsync(List<Pending> batch)
    {
        bool[] changed;
        try
        {
            changed = await registry.ApplyAsync([.. batch.Select(p => p.Change)], CancellationToken.None);
        }
        catch (Exception e) when (batch.Count > 1)
        {
            logger.LogWarning("A batch of {Count} key events failed ({Error}); applying them one by one", batch.Count, e.Message);
            changed = new bool[batch.Count];
            var anyChanged = false;
            for (var i = 0; i < batch.Count; i++)
            {
                try
                {
                    anyChanged |= changed[i] = await registry.ChangeAsync(batch[i].Change, CancellationToken.None);
                }
                catch (Exception one)
                {
                    batch[i].Outcome.TrySetException(one);
                }
            }

            Complete(batch, changed, anyChanged);
            return;
        }

        Complete(batch, changed, changed.Any(c => c));
    }

    private void Complete(List<Pending> batch, bool[] changed, bool anyChanged)
    {
        if (anyChanged)
        {
            writer.Changed();
        }

        Batches.Inc();
        for (var i = 0; i < batch.Count; i++)
        {
            batch[i].Outcome.TrySetResult(changed[i]); // no-op for an event that failed alone
        }
    }

    private sealed class Pending(KeyRegistry.Change change)
    {
        public KeyRegistry.Change Change { get; } = change;

        public TaskCompletionSource<bool> Outcome { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
