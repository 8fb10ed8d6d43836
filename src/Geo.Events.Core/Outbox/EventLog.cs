using System.Text.Json;
using Dapper;
using Geo.Events.Contracts;
using Npgsql;

namespace Geo.Events.Core.Outbox;

/// <summary>
/// The outbox table <c>event_log</c>: appends accepted events and hands unpublished ones to the dispatcher. What
/// geo-primary and geo-admin read back from it (the latest path of every project, the newest sequence, the
/// backlog) is in <c>EventLog.Queries.cs</c>.
/// </summary>
public sealed partial class EventLog(NpgsqlDataSource dataSource)
{
    public sealed record Appended(long Sequence, Guid EventId, bool Duplicate);

    public sealed record Row(long Id, string EventType, string Body, string? TraceParent);

    /// <summary>Where an event came from: the GitLab instance (or geo-primary's own watcher) and the hook's X-Gitlab-Event.</summary>
    public sealed record Origin(string? Source, string? GitLabEvent);

    /// <summary>What the storage watcher records as its events' origin.</summary>
    public static readonly Origin StorageWatcher = new("storage-watcher", null);

    /// <summary>
    /// An event ready to be appended, serialized where it was accepted (in parallel, on the request's thread and in its
    /// trace) so that whoever writes it only sends it.
    /// </summary>
    public sealed record NewRow(
        Guid EventId, string EventType, long? ProjectId, string Body, string? DeliveryId, DateTimeOffset ReceivedAt, string? TraceParent, Origin? Origin)
    {
        public static NewRow Of(IGeoEvent evt, string? deliveryId, Origin? origin = null) => new(
            evt.EventId,
            evt.GetType().Name,
            // project_id says which project an event is about (the inventory reads each project's latest path from it); a
            // snippet's or a group wiki's event carries its owner's id there, which is not a project's.
            evt is RepositoryChanged changed && !Repositories.RepositoryLayout.ProjectKinds.Contains(changed.Kind)
                ? null
                : (evt as IProjectEvent)?.ProjectId,
            JsonSerializer.Serialize(evt, evt.GetType()),
            deliveryId,
            evt.OccurredAt,
            System.Diagnostics.Activity.Current?.Id,
            origin);
    }

    public Task<Appended> AppendAsync(IGeoEvent evt, string? deliveryId, CancellationToken cancellationToken, Origin? origin = null) =>
        AppendAsync(NewRow.Of(evt, deliveryId, origin), cancellationToken);

    /// <summary>Appends one row in its own transaction.</summary>
    public async Task<Appended> AppendAsync(NewRow row, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await AppendAsync(connection, null, row, cancellationToken);
    }

    /// <summary>Appends inside the caller's transaction (the storage watcher records its own state in the same one).</summary>
    public static Task<Appended> AppendAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, IGeoEvent evt, string? deliveryId, CancellationToken cancellationToken, Origin? origin = null) =>
        AppendAsync(connection, transaction, NewRow.Of(evt, deliveryId, origin), cancellationToken);

    private static async Task<Appended> AppendAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, NewRow row, CancellationToken cancellationToken)
    {
        var inserted = await connection.QuerySingleOrDefaultAsync<(long Id, Guid EventId)?>(
            new CommandDefinition(
                """
                INSERT INTO event_log (event_id, event_type, project_id, body, delivery_id, received_at, trace_parent, origin, gitlab_event)
                VALUES (@eventId, @eventType, @projectId, @body::jsonb, @deliveryId, @receivedAt, @traceParent, @origin, @gitlabEvent)
                ON CONFLICT (delivery_id) DO NOTHING
                RETURNING id, event_id
                """,
                new
                {
                    eventId = row.EventId,
                    eventType = row.EventType,
                    projectId = row.ProjectId,
                    body = row.Body,
                    deliveryId = row.DeliveryId,
                    receivedAt = row.ReceivedAt,
                    traceParent = row.TraceParent,
                    origin = row.Origin?.Source,
                    gitlabEvent = row.Origin?.GitLabEvent
                },
                transaction, cancellationToken: cancellationToken));
        if (inserted is { } appended)
        {
            return new Appended(appended.Id, appended.EventId, Duplicate: false);
        }

        var existing = await connection.QuerySingleAsync<(long Id, Guid EventId)>(
            new CommandDefinition("SELECT id, event_id FROM event_log WHERE delivery_id = @deliveryId", new { deliveryId = row.DeliveryId }, transaction, cancellationToken: cancellationToken));
        return new Appended(existing.Id, existing.EventId, Duplicate: true);
    }

    /// <summary>
    /// Group commit: appends <paramref name="rows"/> in one transaction (one statement, one WAL flush) and answers each
    /// in order. A delivery id already recorded, or repeated within the batch, answers with the first row's sequence as a
    /// duplicate. All or nothing: if PostgreSQL refuses one row, none is recorded and the exception says why.
    /// </summary>
    public async Task<IReadOnlyList<Appended>> AppendBatchAsync(IReadOnlyList<NewRow> rows, CancellationToken cancellationToken)
    {
        // Within the batch the first delivery of an id is inserted; a repeat answers as its duplicate.
        var first = new Dictionary<string, int>(StringComparer.Ordinal);
        var inserting = new List<NewRow>(rows.Count);
        var source = new int[rows.Count];
        var repeat = new bool[rows.Count];
        for (var i = 0; i < rows.Count; i++)
        {
            var row = rows[i];
            if (row.DeliveryId is { } deliveryId && first.TryGetValue(deliveryId, out var earlier))
            {
                (source[i], repeat[i]) = (earlier, true);
                continue;
            }

            source[i] = inserting.Count;
            if (row.DeliveryId is not null)
            {
                first[row.DeliveryId] = inserting.Count;
            }

            inserting.Add(row);
        }

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // ORDER BY ord: sequences follow the order the hooks were queued in.
        var inserted = (await connection.QueryAsync<(long Id, Guid EventId)>(
            new CommandDefinition(
                """
                INSERT INTO event_log (event_id, event_type, project_id, body, delivery_id, received_at, trace_parent, origin, gitlab_event)
                SELECT r.event_id, r.event_type, r.project_id, r.body::jsonb, r.delivery_id, r.received_at, r.trace_parent, r.origin, r.gitlab_event
                FROM unnest(@eventIds, @eventTypes, @projectIds, @bodies, @deliveryIds, @receivedAts, @traceParents, @origins, @gitlabEvents) WITH ORDINALITY
                    AS r(event_id, event_type, project_id, body, delivery_id, received_at, trace_parent, origin, gitlab_event, ord)
                ORDER BY r.ord
                ON CONFLICT (delivery_id) DO NOTHING
                RETURNING id, event_id
                """,
                new
                {
                    eventIds = inserting.Select(r => r.EventId).ToArray(),
                    eventTypes = inserting.Select(r => r.EventType).ToArray(),
                    projectIds = inserting.Select(r => r.ProjectId).ToArray(),
                    bodies = inserting.Select(r => r.Body).ToArray(),
                    deliveryIds = inserting.Select(r => r.DeliveryId).ToArray(),
                    receivedAts = inserting.Select(r => r.ReceivedAt).ToArray(),
                    traceParents = inserting.Select(r => r.TraceParent).ToArray(),
                    origins = inserting.Select(r => r.Origin?.Source).ToArray(),
                    gitlabEvents = inserting.Select(r => r.Origin?.GitLabEvent).ToArray()
                },
                transaction, cancellationToken: cancellationToken))).ToDictionary(r => r.EventId, r => r.Id);

        // Rows ON CONFLICT skipped: their delivery was recorded before (or by a concurrent writer, which the insert waited for).
        var recorded = new Dictionary<string, (long Id, Guid EventId)>(StringComparer.Ordinal);
        var skipped = inserting.Where(r => !inserted.ContainsKey(r.EventId)).Select(r => r.DeliveryId!).ToArray();
        if (skipped.Length > 0)
        {
            foreach (var row in await connection.QueryAsync<(long Id, Guid EventId, string DeliveryId)>(
                         new CommandDefinition(
                             "SELECT id, event_id, delivery_id FROM event_log WHERE delivery_id = ANY(@skipped)",
                             new { skipped }, transaction, cancellationToken: cancellationToken)))
            {
                recorded[row.DeliveryId] = (row.Id, row.EventId);
            }
        }

        await transaction.CommitAsync(cancellationToken);

        var answers = new Appended[rows.Count];
        for (var i = 0; i < rows.Count; i++)
        {
            var row = inserting[source[i]];
            answers[i] = inserted.TryGetValue(row.EventId, out var id)
                ? new Appended(id, row.EventId, Duplicate: repeat[i])
                : new Appended(recorded[row.DeliveryId!].Id, recorded[row.DeliveryId!].EventId, Duplicate: true);
        }

        return answers;
    }

    /// <summary>
    /// The oldest <paramref name="limit"/> unpublished events, oldest first, leaving out <paramref name="inFlight"/>: the
    /// ones being published or marked while this reads.
    /// </summary>
    public async Task<IReadOnlyList<Row>> UnpublishedAsync(int limit, IReadOnlyCollection<long> inFlight, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var rows = await connection.QueryAsync<Row>(
            new CommandDefinition(
                """
                SELECT id, event_type AS EventType, body::text AS Body, trace_parent AS TraceParent
                  FROM event_log
                 WHERE published_at IS NULL AND id <> ALL(@inFlight)
                 ORDER BY id
                 LIMIT @limit
                """,
                new { limit, inFlight = inFlight.ToArray() }, cancellationToken: cancellationToken));
        return rows.AsList();
    }

    public async Task MarkPublishedAsync(IReadOnlyCollection<long> ids, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(
            new CommandDefinition(
                "UPDATE event_log SET published_at = now() WHERE id = ANY(@ids) AND published_at IS NULL",
                new { ids = ids.ToArray() }, cancellationToken: cancellationToken));
    }
}
