using Dapper;
using Geo.Events.Contracts.Api;
using Npgsql;

namespace Geo.Events.Secondary.Registration;

/// <summary>
/// The <c>applied_events</c> table: the sequences of the events this secondary has finished with, recorded before
/// each message is acknowledged, so that geo-primary can tell what still waits for this secondary (in its queue,
/// its delay queues or in flight) from what is done. Events are handled concurrently and finish out of order,
/// hence a set and not a counter. Recording is a group commit: the events that finish while one INSERT runs go
/// together in the next, so a burst costs a few round trips, not one per event.
/// </summary>
public sealed class AppliedEvents(NpgsqlDataSource dataSource)
{
    private readonly Lock _gate = new();
    private List<long> _waiting = [];
    private TaskCompletionSource? _next;
    private bool _flushing;

    /// <summary>Completes once <paramref name="sequence"/> is stored (with the others gathered meanwhile).</summary>
    public Task RecordAsync(long sequence)
    {
        lock (_gate)
        {
            _waiting.Add(sequence);
            _next ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var stored = _next.Task;
            if (!_flushing)
            {
                _flushing = true;
                _ = Task.Run(FlushAsync);
            }

            return stored;
        }
    }

    private async Task FlushAsync()
    {
        while (true)
        {
            long[] batch;
            TaskCompletionSource done;
            lock (_gate)
            {
                if (_waiting.Count == 0)
                {
                    _flushing = false;
                    return;
                }

                batch = [.. _waiting];
                _waiting = [];
                done = _next!;
                _next = null;
            }

            try
            {
                await using var connection = await dataSource.OpenConnectionAsync();
                await connection.ExecuteAsync(
                    "INSERT INTO applied_events (sequence) SELECT unnest(@batch) ON CONFLICT DO NOTHING", new { batch });
                done.SetResult();
            }
            catch (Exception e)
            {
                // Each _waiting consumer fails and its message is redelivered: applying again is idempotent.
                done.SetException(e);
            }
        }
    }

    /// <summary>The recorded sequences as ranges of consecutive numbers, lowest first, at most <see cref="SecondaryStatus.MaxAppliedRanges"/>.</summary>
    public async Task<IReadOnlyList<SequenceRange>> RangesAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return (await connection.QueryAsync<SequenceRange>(new CommandDefinition(
            """
            SELECT min(sequence) AS "From", max(sequence) AS "To"
              FROM (SELECT sequence, sequence - row_number() OVER (ORDER BY sequence) AS island FROM applied_events) s
             GROUP BY island ORDER BY 1 LIMIT @max
            """,
            new { max = SecondaryStatus.MaxAppliedRanges }, cancellationToken: cancellationToken))).AsList();
    }

    /// <summary>Forgets the sequences up to geo-primary's watermark: it has counted them.</summary>
    public async Task ForgetThroughAsync(long sequence, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            "DELETE FROM applied_events WHERE sequence <= @sequence", new { sequence }, cancellationToken: cancellationToken));
    }
}
