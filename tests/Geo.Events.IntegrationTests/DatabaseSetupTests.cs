using Geo.Events.Core.Storage;
using Geo.Events.Testing;
using Npgsql;

namespace Geo.Events.IntegrationTests;

/// <summary>The services' pool, against the real PostgreSQL: what PostgreSQL itself says it holds prepared.</summary>
[TestClass]
public sealed class DatabaseSetupTests
{
    private const string Statement = "SELECT count(*) FROM pg_class WHERE relname = $1";

    [TestMethod]
    public async Task AStatementRunAgainAndAgainIsPreparedOnceOnItsConnection()
    {
        Assert.AreEqual(1, await PreparedAfterRepeatsAsync(TestServers.ConnectionString("postgres", pooling: true)),
            "a statement run ten times on one pooled connection was parsed and planned every time");
    }

    [TestMethod]
    public async Task AConnectionStringThatTurnsPreparationOffIsObeyed()
    {
        Assert.AreEqual(0, await PreparedAfterRepeatsAsync(TestServers.ConnectionString("postgres", pooling: true) + ";Max Auto Prepare=0"),
            "Max Auto Prepare=0 in the connection string (a pooler in transaction mode) was overridden");
    }

    /// <summary>Runs <see cref="Statement"/> ten times on one pooled connection, then counts it in pg_prepared_statements of that session.</summary>
    private static async Task<long> PreparedAfterRepeatsAsync(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { MaxPoolSize = 1, ApplicationName = "geo-prepare-test" };
        await using var dataSource = DatabaseSetup.CreateDataSource(builder.ConnectionString);
        for (var i = 0; i < 10; i++)
        {
            await using var command = dataSource.CreateCommand(Statement);
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = "pg_class" });
            Assert.AreEqual(1L, await command.ExecuteScalarAsync());
        }

        await using var check = dataSource.CreateCommand("SELECT count(*) FROM pg_prepared_statements WHERE statement = $1");
        check.Parameters.Add(new NpgsqlParameter<string> { TypedValue = Statement });
        return (long)(await check.ExecuteScalarAsync())!;
    }
}
