using System.Globalization;
using Dapper;
using Geo.Events.Secondary.Repositories;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Geo.Events.Secondary.SafetyNet;

/// <summary>
/// The mass-destruction guard (tables <c>destroy_log</c>, <c>destroy_guard</c>, <c>held_destroys</c>,
/// <c>discarded_destroys</c>). Every destroy of a mirrored project asks it first: when the destroys within
/// Secondary:DestroyGuardWindow would exceed Secondary:DestroyGuardCount, or Secondary:DestroyGuardPercent of the
/// projects this secondary had, the guard trips, and from then on every destroy is held in PostgreSQL (a restart
/// keeps it) until an admin releases (applies) or discards (drops) them. Decisions are serialised across instances by
/// a transaction-scoped advisory lock.
/// </summary>
public sealed class DestroyGuard(NpgsqlDataSource dataSource, IOptions<SafetyNetOptions> options, ILogger<DestroyGuard> logger)
{
    /// <summary>The advisory lock key of the guard's decisions ("geoguard" in ASCII); repository locks use other keys.</summary>
    private const long LockKey = 0x67656f6775617264;

    public enum Decision
    {
        /// <summary>Go ahead and destroy.</summary>
        Apply,

        /// <summary>Held: nothing changes on disk or in the registry until an admin decides.</summary>
        Held,

        /// <summary>An admin discarded this project's destroy before: it is not applied.</summary>
        Discarded,
    }

    public sealed record Held(long ProjectId, string Path, long Sequence, DateTime HeldAt);

    public sealed record State(bool Guarded, DateTime? Since, string? Reason, long HeldCount);

    /// <summary>Decides about one destroy; <paramref name="live"/>: the project has a mirror here (only those count).</summary>
    public async Task<Decision> AdmitAsync(long projectId, string path, long sequence, bool live, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition("SELECT pg_advisory_xact_lock(@LockKey)", new { LockKey }, transaction, cancellationToken: cancellationToken));
        if (await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
                "SELECT EXISTS (SELECT 1 FROM discarded_destroys WHERE project_id = @projectId)", new { projectId }, transaction, cancellationToken: cancellationToken)))
        {
            return Decision.Discarded;
        }

        var guarded = await connection.ExecuteScalarAsync<bool>(new CommandDefinition("SELECT EXISTS (SELECT 1 FROM destroy_guard)", transaction: transaction, cancellationToken: cancellationToken));
        if (!guarded && live)
        {
            var counts = await connection.QuerySingleAsync<(long Recent, long Live)>(new CommandDefinition(
                """
                SELECT (SELECT count(*) FROM destroy_log WHERE destroyed_at > now() - @window AND project_id <> @projectId),
                       (SELECT count(*) FROM projects WHERE kind = 0 AND state <> @destroyed)
                """,
                new { window = settings.DestroyGuardWindow, projectId, destroyed = ProjectState.Destroyed }, transaction, cancellationToken: cancellationToken));
            var next = counts.Recent + 1;
            var before = counts.Live + counts.Recent; // the projects it had when the window began, this one included
            var limit = settings.DestroyGuardPercent / 100 * before;
            string? reason = null;
            if (settings.DestroyGuardCount > 0 && next > settings.DestroyGuardCount)
            {
                reason = $"{next} destroys within {settings.DestroyGuardWindow} (Secondary:DestroyGuardCount {settings.DestroyGuardCount})";
            }
            else if (settings.DestroyGuardPercent > 0 && next > 1 && next > limit)
            {
                reason = $"{next} destroys within {settings.DestroyGuardWindow}, {(100.0 * next / before).ToString("0.#", CultureInfo.InvariantCulture)}% of {before} projects (Secondary:DestroyGuardPercent {settings.DestroyGuardPercent.ToString(CultureInfo.InvariantCulture)})";
            }

            if (reason is not null)
            {
                await connection.ExecuteAsync(new CommandDefinition(
                    "INSERT INTO destroy_guard (reason) VALUES (@reason) ON CONFLICT DO NOTHING", new { reason }, transaction, cancellationToken: cancellationToken));
                logger.LogWarning("Mass-destruction guard tripped: {Reason}; destroys are held until 'geo-admin guard release|discard'", reason);
                guarded = true;
            }
        }

        if (guarded)
        {
            await connection.ExecuteAsync(new CommandDefinition(
                """
                INSERT INTO held_destroys (project_id, path, sequence) VALUES (@projectId, @path, @sequence)
                ON CONFLICT (project_id) DO UPDATE SET sequence = GREATEST(held_destroys.sequence, EXCLUDED.sequence)
                """,
                new { projectId, path, sequence }, transaction, cancellationToken: cancellationToken));
            await transaction.CommitAsync(cancellationToken);
            return Decision.Held;
        }

        if (live)
        {
            await connection.ExecuteAsync(new CommandDefinition(
                "INSERT INTO destroy_log (project_id) VALUES (@projectId) ON CONFLICT DO NOTHING", new { projectId }, transaction, cancellationToken: cancellationToken));
        }

        await transaction.CommitAsync(cancellationToken);
        return Decision.Apply;
    }

    public async Task<IReadOnlyList<Held>> HeldAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return (await connection.QueryAsync<Held>(new CommandDefinition(
            "SELECT project_id AS ProjectId, path AS Path, sequence AS Sequence, held_at AS HeldAt FROM held_destroys ORDER BY sequence",
            cancellationToken: cancellationToken))).AsList();
    }

    public async Task<bool> IsHeldAsync(long projectId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
            "SELECT EXISTS (SELECT 1 FROM held_destroys WHERE project_id = @projectId)", new { projectId }, cancellationToken: cancellationToken));
    }

    public async Task<State> StateAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var row = await connection.QuerySingleAsync<State>(new CommandDefinition(
            """
            SELECT EXISTS (SELECT 1 FROM destroy_guard) AS Guarded, (SELECT guarded_since FROM destroy_guard) AS Since,
                   (SELECT reason FROM destroy_guard) AS Reason, (SELECT count(*) FROM held_destroys) AS HeldCount
            """,
            cancellationToken: cancellationToken));
        return row;
    }

    /// <summary>One held destroy was applied (by a release): it is no longer held.</summary>
    public async Task ForgetHeldAsync(long projectId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            "DELETE FROM held_destroys WHERE project_id = @projectId", new { projectId }, cancellationToken: cancellationToken));
    }

    /// <summary>After a release: stop guarding, and start the window over (the released destroys were an admin's decision).</summary>
    public async Task EndAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition("SELECT pg_advisory_xact_lock(@LockKey)", new { LockKey }, transaction, cancellationToken: cancellationToken));
        // Only when nothing is held any more: a destroy held while the release ran waits for the next decision.
        await connection.ExecuteAsync(new CommandDefinition(
            "DELETE FROM destroy_guard WHERE NOT EXISTS (SELECT 1 FROM held_destroys)", transaction: transaction, cancellationToken: cancellationToken));
        await connection.ExecuteAsync(new CommandDefinition("DELETE FROM destroy_log", transaction: transaction, cancellationToken: cancellationToken));
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>Drops every held destroy (their mirrors stay and are reported as extra by verification) and stops guarding.</summary>
    public async Task<int> DiscardAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition("SELECT pg_advisory_xact_lock(@LockKey)", new { LockKey }, transaction, cancellationToken: cancellationToken));
        var dropped = await connection.ExecuteAsync(new CommandDefinition(
            """
            WITH dropped AS (DELETE FROM held_destroys RETURNING project_id, path)
            INSERT INTO discarded_destroys (project_id, path) SELECT project_id, path FROM dropped
            ON CONFLICT (project_id) DO NOTHING
            """,
            transaction: transaction, cancellationToken: cancellationToken));
        await connection.ExecuteAsync(new CommandDefinition("DELETE FROM destroy_guard", transaction: transaction, cancellationToken: cancellationToken));
        await connection.ExecuteAsync(new CommandDefinition("DELETE FROM destroy_log", transaction: transaction, cancellationToken: cancellationToken));
        await transaction.CommitAsync(cancellationToken);
        return dropped;
    }

    /// <summary>Projects whose destroy an admin discarded: verification reports their mirrors as extra.</summary>
    public async Task<IReadOnlyList<(long ProjectId, string Path)>> DiscardedAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return (await connection.QueryAsync<(long, string)>(new CommandDefinition(
            "SELECT project_id, path FROM discarded_destroys ORDER BY project_id", cancellationToken: cancellationToken))).AsList();
    }
}
