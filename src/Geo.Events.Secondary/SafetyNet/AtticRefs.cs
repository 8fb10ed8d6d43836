using Dapper;
using Geo.Events.Contracts;
using Geo.Events.Secondary.Repositories;
using Npgsql;

namespace Geo.Events.Secondary.SafetyNet;

/// <summary>
/// The <c>attic_refs</c> table: the old tips syncs kept in each mirror's <c>refs/geo-attic/</c>. The refs in the mirror
/// are the truth (written first); the rows list them for geo-admin and tell the purger which mirrors to open.
/// </summary>
public sealed class AtticRefs(NpgsqlDataSource dataSource)
{
    public sealed record Row(long ProjectId, short Kind, string Ref, string OriginalRef, string Sha, DateTime KeptAt);

    private const string Columns = "project_id AS ProjectId, kind AS Kind, ref AS Ref, original_ref AS OriginalRef, sha AS Sha, kept_at AS KeptAt";

    public async Task AddAsync(long projectId, RepositoryKind kind, IReadOnlyList<MirrorFetcher.AtticRef> kept, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO attic_refs (project_id, kind, ref, original_ref, sha, kept_at)
            SELECT @projectId, @kind, r, o, s, k FROM unnest(@refs, @originals, @shas, @at) AS t (r, o, s, k)
            ON CONFLICT DO NOTHING
            """,
            new
            {
                projectId,
                kind = (short)kind,
                refs = kept.Select(k => k.Ref).ToArray(),
                originals = kept.Select(k => k.OriginalRef).ToArray(),
                shas = kept.Select(k => k.Sha).ToArray(),
                at = kept.Select(k => k.KeptAt.UtcDateTime).ToArray(),
            },
            cancellationToken: cancellationToken));
    }

    /// <summary>The newest <paramref name="limit"/> rows, or a project's.</summary>
    public async Task<IReadOnlyList<Row>> ListAsync(long? projectId, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return (await connection.QueryAsync<Row>(new CommandDefinition(
            $"SELECT {Columns} FROM attic_refs WHERE @projectId::bigint IS NULL OR project_id = @projectId ORDER BY kept_at DESC, ref LIMIT @limit",
            new { projectId, limit }, cancellationToken: cancellationToken))).AsList();
    }

    public async Task<Row?> FindAsync(long projectId, string atticRef, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.QuerySingleOrDefaultAsync<Row>(new CommandDefinition(
            $"SELECT {Columns} FROM attic_refs WHERE project_id = @projectId AND ref = @atticRef LIMIT 1",
            new { projectId, atticRef }, cancellationToken: cancellationToken));
    }

    /// <summary>Repositories with rows kept before <paramref name="cutoff"/>.</summary>
    public async Task<IReadOnlyList<(long ProjectId, short Kind)>> ExpiredAsync(DateTime cutoff, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return (await connection.QueryAsync<(long, short)>(new CommandDefinition(
            "SELECT DISTINCT project_id, kind FROM attic_refs WHERE kept_at <= @cutoff", new { cutoff }, cancellationToken: cancellationToken))).AsList();
    }

    public async Task ForgetAsync(long projectId, short kind, DateTime cutoff, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            "DELETE FROM attic_refs WHERE project_id = @projectId AND kind = @kind AND kept_at <= @cutoff",
            new { projectId, kind, cutoff }, cancellationToken: cancellationToken));
    }
}
