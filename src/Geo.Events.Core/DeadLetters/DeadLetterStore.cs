using Dapper;
using Geo.Events.Contracts.Api;
using Npgsql;

namespace Geo.Events.Core.DeadLetters;

/// <summary>Which dead letters an admin command is about; every filter is optional and they combine with AND.</summary>
public sealed record DeadLetterFilter
{
    public IReadOnlyList<long> Ids { get; init; } = [];
    public string? Secondary { get; init; }
    public string? MessageType { get; init; }
    public string? Project { get; init; }
    public string? Exception { get; init; }
    public string? Group { get; init; }
    public DateTimeOffset? Since { get; init; }

    /// <summary>One of <see cref="DeadLetterState"/>, or null for all.</summary>
    public string? State { get; init; } = DeadLetterState.Failed;

    /// <summary>Whether anything but the state narrows it: a replay, delete or restore of everything must say so (--all).</summary>
    public bool IsBounded => Ids.Count > 0 || Secondary is not null || MessageType is not null || Project is not null
        || Exception is not null || Group is not null || Since is not null;
}

/// <summary>The <c>dead_letters</c> and <c>dead_letter_actions</c> tables in geo-primary's database.</summary>
public sealed class DeadLetterStore(NpgsqlDataSource dataSource)
{
    private const string Columns = """
        id AS Id, secondary AS Secondary, source_queue AS SourceQueue, original_queue AS OriginalQueue, reason AS Reason,
        group_id AS GroupId, message_id AS MessageId, message_type AS MessageType, project_id AS ProjectId,
        project_path AS ProjectPath, key_id AS KeyId, exception_type AS ExceptionType, exception_message AS ExceptionMessage,
        stack_trace AS StackTrace, retry_count AS RetryCount, redelivery_count AS RedeliveryCount, faulted_at AS FaultedAt,
        ingested_at AS IngestedAt, properties::text AS Properties, headers::text AS Headers, body AS Body, state AS State,
        replayed_at AS ReplayedAt, archived_at AS ArchivedAt
        """;

    // Every filter is a parameter; an absent one is NULL and matches everything.
    private const string Where = """
        WHERE (cardinality(@ids) = 0 OR id = ANY(@ids))
          AND (@secondary::text IS NULL OR secondary = @secondary)
          AND (@messageType::text IS NULL OR lower(message_type) = lower(@messageType))
          AND (@project::text IS NULL OR project_path = @project OR project_id::text = @project)
          AND (@exception::text IS NULL OR exception_type ILIKE '%' || @exception || '%' OR exception_message ILIKE '%' || @exception || '%')
          AND (@group::text IS NULL OR group_id = @group)
          AND (@since::timestamptz IS NULL OR coalesce(faulted_at, ingested_at) >= @since)
          AND (@state::text IS NULL OR state = @state)
        """;

    /// <summary>Stores a dead letter; a second copy of the same delivery is ignored. Returns true when stored.</summary>
    public async Task<bool> InsertAsync(DeadLetter letter, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO dead_letters (secondary, source_queue, original_queue, reason, delivery_hash, group_id, message_id,
                message_type, project_id, project_path, key_id, exception_type, exception_message, stack_trace, retry_count,
                redelivery_count, faulted_at, properties, headers, body)
            VALUES (@Secondary, @SourceQueue, @OriginalQueue, @Reason, @DeliveryHash, @GroupId, @MessageId, @MessageType,
                @ProjectId, @ProjectPath, @KeyId, @ExceptionType, @ExceptionMessage, @StackTrace, @RetryCount,
                @RedeliveryCount, @FaultedAt, @Properties::jsonb, @Headers::jsonb, @Body)
            ON CONFLICT (source_queue, delivery_hash) DO NOTHING
            """, letter, cancellationToken: cancellationToken)) > 0;
    }

    public async Task<IReadOnlyList<StoredDeadLetter>> FindAsync(DeadLetterFilter filter, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var rows = await connection.QueryAsync<StoredDeadLetter>(new CommandDefinition(
            $"SELECT {Columns} FROM dead_letters {Where} ORDER BY id", Parameters(filter), cancellationToken: cancellationToken));
        return rows.AsList();
    }

    public async Task<StoredDeadLetter?> GetAsync(long id, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.QuerySingleOrDefaultAsync<StoredDeadLetter>(new CommandDefinition(
            $"SELECT {Columns} FROM dead_letters WHERE id = @id", new { id }, cancellationToken: cancellationToken));
    }

    /// <summary>Sets a dead letter's state and records the action, in one transaction.</summary>
    public async Task RecordAsync(long id, string action, string? newState, Guid batchId, string actor, string outcome, string? detail, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        if (newState is not null)
        {
            await connection.ExecuteAsync(new CommandDefinition(
                """
                UPDATE dead_letters
                   SET state = @newState,
                       replayed_at = CASE WHEN @newState = @replayed THEN now() ELSE replayed_at END,
                       archived_at = CASE WHEN @newState = @archived THEN now() WHEN @newState = @failed THEN NULL ELSE archived_at END
                 WHERE id = @id
                """, new { id, newState, replayed = DeadLetterState.Replayed, archived = DeadLetterState.Archived, failed = DeadLetterState.Failed }, transaction, cancellationToken: cancellationToken));
        }

        await connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO dead_letter_actions (batch_id, action, dead_letter_id, actor, outcome, detail)
            VALUES (@batchId, @action, @id, @actor, @outcome, @detail)
            """, new { batchId, action, id, actor, outcome, detail }, transaction, cancellationToken: cancellationToken));
        await transaction.CommitAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<DeadLetterBatch>> HistoryAsync(int limit, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var rows = await connection.QueryAsync<DeadLetterBatch>(new CommandDefinition(
            """
            SELECT batch_id AS BatchId, min(action) AS Action, min(actor) AS Actor, min(at) AS StartedAt, max(at) AS EndedAt,
                   count(*) AS Count,
                   string_agg(DISTINCT outcome, ', ') AS Outcomes
              FROM dead_letter_actions
             GROUP BY batch_id
             ORDER BY min(at) DESC
             LIMIT @limit
            """, new { limit }, cancellationToken: cancellationToken));
        return rows.AsList();
    }

    /// <summary>Deletes archived dead letters past their retention; the only way anything here is ever dropped.</summary>
    public async Task<int> PurgeArchivedAsync(TimeSpan retention, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteAsync(new CommandDefinition(
            "DELETE FROM dead_letters WHERE state = @archived AND archived_at < now() - @retention",
            new { retention, archived = DeadLetterState.Archived }, cancellationToken: cancellationToken));
    }

    /// <summary>Dead letters per secondary and state, for /metrics and <c>geo-admin status</c>.</summary>
    public async Task<IReadOnlyList<(string Secondary, string State, long Count)>> CountsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return (await connection.QueryAsync<(string Secondary, string State, long Count)>(new CommandDefinition(
            "SELECT secondary, state, count(*) FROM dead_letters GROUP BY secondary, state", cancellationToken: cancellationToken))).AsList();
    }

    private static object Parameters(DeadLetterFilter filter) => new
    {
        ids = filter.Ids.ToArray(),
        secondary = filter.Secondary,
        messageType = filter.MessageType,
        project = filter.Project,
        exception = filter.Exception,
        group = filter.Group,
        since = filter.Since,
        state = filter.State,
    };
}
