using Geo.Events.Core.Outbox;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Geo.Events.Primary.Hooks;

/// <summary>
/// Group commit: hooks that arrive together share one transaction and one WAL flush. Each request queues its row and
/// awaits that row's own answer, so a 202 still means committed. One writer at a time takes up to
/// Primary:IngestBatchSize queued rows (after waiting Primary:IngestBatchWindow, when set) and commits them together,
/// while the next batch gathers behind it. A batch PostgreSQL refuses is tried again row by row, each in its own
/// transaction, so a row it cannot take fails alone and its neighbours are recorded.
/// </summary>
public sealed class IngestQueue(EventLog eventLog, IOptions<PrimaryOptions> options, ILogger<IngestQueue> logger)
{
    private readonly Lock _lock = new();
    private readonly Queue<Pending> _queue = new();
    private bool _writing;

    private sealed record Pending(EventLog.NewRow Row, TaskCompletionSource<EventLog.Appended> Answer);

    /// <summary>Records <paramref name="row"/> and answers once it is committed, or throws what PostgreSQL said.</summary>
    public Task<EventLog.Appended> AppendAsync(EventLog.NewRow row, CancellationToken cancellationToken)
    {
        if (options.Value.IngestBatchSize == 1)
        {
            return eventLog.AppendAsync(row, cancellationToken);
        }

        var pending = new Pending(row, new TaskCompletionSource<EventLog.Appended>(TaskCreationOptions.RunContinuationsAsynchronously));
        bool start;
        lock (_lock)
        {
            _queue.Enqueue(pending);
            start = !_writing;
            _writing = true;
        }

        if (start)
        {
            _ = Task.Run(WriteAsync, CancellationToken.None);
        }

        // The row is written whether or not this request is still waiting: its client may send it again, and its
        // delivery id then makes it a duplicate.
        return pending.Answer.Task;
    }

    private async Task WriteAsync()
    {
        while (true)
        {
            var (size, window) = (options.Value.IngestBatchSize, options.Value.IngestBatchWindow);
            if (window > TimeSpan.Zero && Count() < size)
            {
                await Task.Delay(window);
            }

            List<Pending> batch;
            lock (_lock)
            {
                if (_queue.Count == 0)
                {
                    _writing = false;
                    return;
                }

                batch = new List<Pending>(Math.Min(size, _queue.Count));
                while (batch.Count < size && _queue.TryDequeue(out var next))
                {
                    batch.Add(next);
                }
            }

            await CommitAsync(batch);
        }
    }

    private int Count()
    {
        lock (_lock)
        {
            return _queue.Count;
        }
    }

    private async Task CommitAsync(List<Pending> batch)
    {
        try
        {
            var answers = await eventLog.AppendBatchAsync(batch.ConvertAll(p => p.Row), CancellationToken.None);
            for (var i = 0; i < batch.Count; i++)
            {
                batch[i].Answer.SetResult(answers[i]);
            }
        }
        catch (PostgresException e) when (batch.Count > 1)
        {
            // PostgreSQL answered and refused the batch (nothing of it is recorded): one row may be at fault, so each
            // row is tried alone and gets its own answer.
            logger.LogWarning("A batch of {Count} hooks was refused ({Error}); recording them one at a time", batch.Count, e.MessageText);
            await CommitOneByOneAsync(batch);
        }
        catch (Exception e)
        {
            // PostgreSQL unreachable, or the commit's outcome unknown: every request answers 503 and its client sends it
            // again (a row that did commit then answers as a duplicate).
            foreach (var pending in batch)
            {
                pending.Answer.SetException(e);
            }
        }
    }

    private async Task CommitOneByOneAsync(List<Pending> batch)
    {
        Exception? unreachable = null;
        foreach (var pending in batch)
        {
            if (unreachable is not null)
            {
                pending.Answer.SetException(unreachable);
                continue;
            }

            try
            {
                pending.Answer.SetResult(await eventLog.AppendAsync(pending.Row, CancellationToken.None));
            }
            catch (Exception e)
            {
                pending.Answer.SetException(e);
                if (e is not PostgresException)
                {
                    // Not this row's fault: the rest would wait for the same timeout.
                    unreachable = e;
                }
            }
        }
    }
}
