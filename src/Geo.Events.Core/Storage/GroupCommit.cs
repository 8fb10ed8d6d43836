namespace Geo.Events.Core.Storage;

/// <summary>
/// Group commit for callers that each wait for the answer about their own item: items handed in while a commit is
/// under way gather behind it, and one writer commits what has gathered in one transaction (at most
/// <c>maxBatch</c>, after waiting <c>window</c> when one is set and fewer have gathered). A batch that fails with an
/// error one item may have caused is committed again item by item, so the faulty item fails alone and its neighbours
/// succeed; an error that is no item's fault (the database unreachable) fails the whole batch, and every item after
/// it when it comes up item by item. Used by geo-primary's hook ingest and geo-secondary's key apply.
/// </summary>
/// <param name="commitBatch">Commits the items in one transaction; returns one answer per item, in order.</param>
/// <param name="commitOne">Commits one item alone.</param>
/// <param name="itemMayBeAtFault">True when an item may have caused the error, so retrying one by one isolates it.</param>
/// <param name="retryingOneByOne">Told the batch's size and error before its items are committed one by one (a log line).</param>
public sealed class GroupCommit<TItem, TResult>(
    Func<IReadOnlyList<TItem>, Task<IReadOnlyList<TResult>>> commitBatch,
    Func<TItem, Task<TResult>> commitOne,
    Func<Exception, bool> itemMayBeAtFault,
    Func<int> maxBatch,
    Func<TimeSpan>? window = null,
    Action<int, Exception>? retryingOneByOne = null)
{
    private readonly Lock _gate = new();
    private readonly Queue<Pending> _gathered = new();
    private bool _writing;

    private sealed record Pending(TItem Item, TaskCompletionSource<TResult> Answer);

    /// <summary>
    /// Commits <paramref name="item"/> with whatever else has gathered and answers once it is committed, or throws why it
    /// was not. A cancelled wait leaves the item in its batch: it is committed all the same.
    /// </summary>
    public Task<TResult> CommitAsync(TItem item, CancellationToken cancellationToken)
    {
        var pending = new Pending(item, new TaskCompletionSource<TResult>(TaskCreationOptions.RunContinuationsAsynchronously));
        bool startWriter;
        lock (_gate)
        {
            _gathered.Enqueue(pending);
            startWriter = !_writing;
            _writing = true;
        }

        if (startWriter)
        {
            // Detached from this caller: its cancellation must not cut a batch that carries other callers' items.
            _ = Task.Run(WriteAsync, CancellationToken.None);
        }

        return pending.Answer.Task.WaitAsync(cancellationToken);
    }

    private async Task WriteAsync()
    {
        while (true)
        {
            var size = Math.Max(1, maxBatch());
            if (window?.Invoke() is { } wait && wait > TimeSpan.Zero && Count() < size)
            {
                await Task.Delay(wait);
            }

            List<Pending> batch;
            lock (_gate)
            {
                if (_gathered.Count == 0)
                {
                    _writing = false;
                    return;
                }

                batch = new List<Pending>(Math.Min(size, _gathered.Count));
                while (batch.Count < size && _gathered.TryDequeue(out var next))
                {
                    batch.Add(next);
                }
            }

            await CommitBatchAsync(batch);
        }
    }

    private int Count()
    {
        lock (_gate)
        {
            return _gathered.Count;
        }
    }

    private async Task CommitBatchAsync(List<Pending> batch)
    {
        try
        {
            var answers = await commitBatch(batch.ConvertAll(p => p.Item));
            for (var i = 0; i < batch.Count; i++)
            {
                batch[i].Answer.TrySetResult(answers[i]);
            }
        }
        catch (Exception e) when (batch.Count > 1 && itemMayBeAtFault(e))
        {
            retryingOneByOne?.Invoke(batch.Count, e);
            await CommitOneByOneAsync(batch);
        }
        catch (Exception e)
        {
            // Never leaves an item unanswered, whatever failed.
            foreach (var pending in batch)
            {
                pending.Answer.TrySetException(e);
            }
        }
    }

    private async Task CommitOneByOneAsync(List<Pending> batch)
    {
        Exception? noItemsFault = null;
        foreach (var pending in batch)
        {
            if (noItemsFault is not null)
            {
                // The rest would only wait for the same timeout.
                pending.Answer.TrySetException(noItemsFault);
                continue;
            }

            try
            {
                pending.Answer.TrySetResult(await commitOne(pending.Item));
            }
            catch (Exception e)
            {
                pending.Answer.TrySetException(e);
                if (!itemMayBeAtFault(e))
                {
                    noItemsFault = e;
                }
            }
        }
    }
}
