using Dapper;
using Npgsql;

namespace Geo.Events.Secondary.SafetyNet;

/// <summary>
/// The <c>restored_mirrors</c> table: projects put back from the trash, held until <c>geo-admin trash release</c>.
/// A held project's mirrors are left alone by destroys (a replayed project_destroy), the guard and verification.
/// </summary>
public sealed class RestoredMirrors(NpgsqlDataSource dataSource)
{
    public sealed record Row(long ProjectId, string Path, DateTime RestoredAt);

    public async Task HoldAsync(long projectId, string path, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO restored_mirrors (project_id, path) VALUES (@projectId, @path)
            ON CONFLICT (project_id) DO UPDATE SET path = EXCLUDED.path, restored_at = now()
            """,
            new { projectId, path }, cancellationToken: cancellationToken));
    }

    public async Task<Row?> FindAsync(long projectId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.QuerySingleOrDefaultAsync<Row>(new CommandDefinition(
            "SELECT project_id AS ProjectId, path AS Path, restored_at AS RestoredAt FROM restored_mirrors WHERE project_id = @projectId",
            new { projectId }, cancellationToken: cancellationToken));
    }

    public async Task<IReadOnlyList<Row>> AllAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return (await connection.QueryAsync<Row>(new CommandDefinition(
            "SELECT project_id AS ProjectId, path AS Path, restored_at AS RestoredAt FROM restored_mirrors ORDER BY restored_at DESC",
            cancellationToken: cancellationToken))).AsList();
    }

    public async Task ReleaseAsync(long projectId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            "DELETE FROM restored_mirrors WHERE project_id = @projectId", new { projectId }, cancellationToken: cancellationToken));
    }
}
