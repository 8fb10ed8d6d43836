using Dapper;
using Geo.Events.Contracts;

namespace Geo.Events.Core.Outbox;

/// <summary>What geo-primary (inventory, metrics) and geo-admin read back from <c>event_log</c>.</summary>
public sealed partial class EventLog
{
    // The mapping from event records to SQL, in one place. AppendAsync stores each event as its record's type name
    // (event_type) and its JSON with System.Text.Json's default options (body: C# property names as they are),
    // so a query names a type or a body field through nameof and passes it as a parameter, never as a literal.
    private const string PathField = nameof(RepositoryChanged.PathWithNamespace); // also ProjectRenamed's and ProjectDestroyed's
    private const string GroupOldPathField = nameof(NamespaceRenamed.OldFullPath);
    private const string GroupPathField = nameof(NamespaceRenamed.FullPath);
    private const string Destroyed = nameof(ProjectDestroyed);
    private const string GroupRenamed = nameof(NamespaceRenamed);

    /// <summary>The latest event of every project that had one, with the path that event named.</summary>
    private const string LatestPerProject =
        """
        SELECT DISTINCT ON (project_id) project_id, id, event_type, body->>@pathField AS path
          FROM event_log WHERE project_id IS NOT NULL
         ORDER BY project_id, id DESC
        """;

    /// <param name="Id">The event's sequence.</param>
    /// <param name="Path">The path the event named; null for an event without one.</param>
    public sealed record ProjectEvent(long ProjectId, long Id, bool Destroyed, string? Path);

    /// <summary>The newest event's sequence (0 when there is none).</summary>
    public async Task<long> LatestSequenceAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<long>(new CommandDefinition("SELECT coalesce(max(id), 0) FROM event_log", cancellationToken: cancellationToken));
    }

    /// <summary>
    /// The latest event of every project, and every group rename in sequence order: a group rename moves every
    /// project below <c>Old</c> below <c>New</c> without an event of the project's own.
    /// </summary>
    public async Task<(IReadOnlyList<ProjectEvent> Latest, IReadOnlyList<(long Id, string Old, string New)> GroupRenames)> ProjectHistoryAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var latest = await connection.QueryAsync<(long ProjectId, long Id, string EventType, string? Path)>(new CommandDefinition(
            LatestPerProject, new { pathField = PathField }, cancellationToken: cancellationToken));
        var renames = await connection.QueryAsync<(long Id, string Old, string New)>(new CommandDefinition(
            "SELECT id, body->>@oldField, body->>@newField FROM event_log WHERE event_type = @groupRenamed ORDER BY id",
            new { oldField = GroupOldPathField, newField = GroupPathField, groupRenamed = GroupRenamed }, cancellationToken: cancellationToken));
        return (
            latest.Select(r => new ProjectEvent(r.ProjectId, r.Id, r.EventType == Destroyed, r.Path)).ToList(),
            renames.AsList());
    }

    /// <summary>The project whose latest event names <paramref name="path"/>; null when none does.</summary>
    public async Task<long?> ProjectAtAsync(string path, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.QuerySingleOrDefaultAsync<long?>(new CommandDefinition(
            $"SELECT project_id FROM ({LatestPerProject}) latest WHERE path = @path LIMIT 1",
            new { pathField = PathField, path }, cancellationToken: cancellationToken));
    }

    /// <summary>Events not published yet, and the age of the oldest (null when none waits), for /metrics.</summary>
    public async Task<(long Count, TimeSpan? OldestAge)> BacklogAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var backlog = await connection.QuerySingleAsync<(long Count, double? Oldest)>(new CommandDefinition(
            "SELECT count(*), extract(epoch FROM now() - min(received_at))::float8 FROM event_log WHERE published_at IS NULL",
            cancellationToken: cancellationToken));
        return (backlog.Count, backlog.Oldest is { } seconds ? TimeSpan.FromSeconds(seconds) : null);
    }

    /// <summary>One recorded event as geo-admin events shows it: what, about what, from where, and whether it went out.</summary>
    public sealed class Recorded
    {
        public long Sequence { get; init; }
        public DateTime ReceivedAt { get; init; }
        public string Type { get; init; } = "";
        public long? ProjectId { get; init; }
        public string? Subject { get; init; }
        public string? Origin { get; init; }
        public string? GitLabEvent { get; init; }
        public string? DeliveryId { get; init; }
        public DateTime? PublishedAt { get; init; }
    }

    /// <summary>The newest <paramref name="limit"/> events, newest first; only one project's with <paramref name="projectId"/>.</summary>
    public async Task<IReadOnlyList<Recorded>> RecentAsync(int limit, long? projectId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return (await connection.QueryAsync<Recorded>(new CommandDefinition(
            """
            SELECT id AS Sequence, received_at AS ReceivedAt, event_type AS Type, project_id AS ProjectId,
                   coalesce(body->>@pathField, body->>@groupPathField, body->>'Path', 'key ' || (body->>'KeyId')) AS Subject,
                   origin AS Origin, gitlab_event AS GitLabEvent, delivery_id AS DeliveryId, published_at AS PublishedAt
              FROM event_log
             WHERE @projectId::bigint IS NULL OR project_id = @projectId
             ORDER BY id DESC
             LIMIT @limit
            """,
            new { limit, projectId, pathField = PathField, groupPathField = GroupPathField }, cancellationToken: cancellationToken))).AsList();
    }
}
