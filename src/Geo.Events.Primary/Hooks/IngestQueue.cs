using Geo.Events.Core.Outbox;
using Geo.Events.Core.Storage;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Geo.Events.Primary.Hooks;

/// <summary>
/// Group commit of hooks (<see cref="GroupCommit{TItem, TResult}"/>): hooks that arrive together share one transaction
/// and one WAL flush, and each request awaits its own row's answer, so a 202 still means committed. One writer at a
/// time takes up to Primary:IngestBatchSize queued rows (after waiting Primary:IngestBatchWindow, when set) while the
/// next batch gathers behind it. A batch PostgreSQL refuses is tried again row by row, each in its own transaction, so
/// a row it cannot take fails alone and its neighbours are recorded; PostgreSQL unreachable, or a commit whose outcome
/// is unknown, fails every request of the batch (503), and its client sends it again (a row that did commit then
/// answers as a duplicate).
/// </summary>
public sealed class IngestQueue
{
    private readonly EventLog _eventLog;
    private readonly IOptions<PrimaryOptions> _options;
    private readonly GroupCommit<EventLog.NewRow, EventLog.Appended> _commit;

    public IngestQueue(EventLog eventLog, IOptions<PrimaryOptions> options, ILogger<IngestQueue> logger)
    {
        (_eventLog, _options) = (eventLog, options);
        _commit = new(
            rows => eventLog.AppendBatchAsync(rows, CancellationToken.None),
            row => eventLog.AppendAsync(row, CancellationToken.None),
            itemMayBeAtFault: e => e is PostgresException,
            maxBatch: () => options.Value.IngestBatchSize,
            window: () => options.Value.IngestBatchWindow,
            retryingOneByOne: (count, e) => logger.LogWarning(
                "A batch of {Count} hooks was refused ({Error}); recording them one at a time", count, (e as PostgresException)?.MessageText ?? e.Message));
    }

    /// <summary>Records <paramref name="row"/> and answers once it is committed, or throws what PostgreSQL said.</summary>
    /// <remarks>
    /// The row is written whether or not its request is still waiting: its client may send it again, and its delivery id
    /// then makes it a duplicate.
    /// </remarks>
    public Task<EventLog.Appended> AppendAsync(EventLog.NewRow row, CancellationToken cancellationToken) =>
        _options.Value.IngestBatchSize == 1
            ? _eventLog.AppendAsync(row, cancellationToken)
            : _commit.CommitAsync(row, CancellationToken.None);
}
