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

    public async Task<Appended> AppendAsync(IGeoEvent evt, string? deliveryId, CancellationToken cancellationToken, Origin? origin = null)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await AppendAsync(connection, null, evt, deliveryId, cancellationToken, origin);
    }

    /// <summary>Appends inside the caller's transaction (the storage watcher records its own state in the same one).</summary>
    public static async Task<Appended> AppendAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, IGeoEvent evt, string? deliveryId, CancellationToken cancellationToken, Origin? origin = null)
    {
        var body = JsonSerializer.Serialize(evt, evt.GetType());
        // project_id says which project an event is about (the inventory reads each project's latest path from it); a
        // snippet's or a group wiki's event carries its owner's id there, which is not a project's.
        var projectId = evt is RepositoryChanged changed && !Repositories.RepositoryLayout.ProjectKinds.Contains(changed.Kind)
            ? null
            : (evt as IProjectEvent)?.ProjectId;
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
                    eventId = evt.EventId,
                    eventType = evt.GetType().Name,
                    projectId,
                    body,
                    deliveryId,
                    receivedAt = evt.OccurredAt,
                    traceParent = System.Diagnostics.Activity.Current?.Id,
                    origin = origin?.Source,
                    gitlabEvent = origin?.GitLabEvent
                },
                transaction, cancellationToken: cancellationToken));
        if (inserted is { } row)
        {
            return new Appended(row.Id, row.EventId, Duplicate: false);
        }

        var existing = await connection.QuerySingleAsync<(long Id, Guid EventId)>(
            new CommandDefinition("SELECT id, event_id FROM event_log WHERE delivery_id = @deliveryId", new { deliveryId }, transaction, cancellationToken: cancellationToken));
        return new Appended(existing.Id, existing.EventId, Duplicate: true);
    }

    public async Task<IReadOnlyList<Row>> UnpublishedAsync(int limit, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var rows = await connection.QueryAsync<Row>(
            new CommandDefinition(
                "SELECT id, event_type AS EventType, body::text AS Body, trace_parent AS TraceParent FROM event_log WHERE published_at IS NULL ORDER BY id LIMIT @limit",
                new { limit }, cancellationToken: cancellationToken));
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
