using System.Net;
using Geo.Events.Testing;
using Npgsql;
using static Geo.Events.Testing.PrimaryRepository;

namespace Geo.Events.IntegrationTests;

/// <summary>geo-primary's PostgreSQL refuses connections: ingest answers 503 with a reason, never 2xx for an event it did not store, and recovers by itself.</summary>
[TestClass]
public sealed class PrimaryDatabaseOutageTests
{
    [TestMethod]
    public async Task WhileItsDatabaseIsAwayIngestAnswers503AndStoresNothingThenRecovers()
    {
        await using var site = await GeoSite.StartAsync(["tokyo"]);
        var (repo, first) = await site.CreatePushedRepositoryAsync("outage/app", 1, "before");

        // A real PostgreSQL refusing geo-primary: its database closed to new connections, its sessions ended.
        await AdminSqlAsync($"ALTER DATABASE \"{site.PrimaryDatabase}\" WITH ALLOW_CONNECTIONS false");
        await AdminSqlAsync($"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{site.PrimaryDatabase}'");
        try
        {
            var lost = await repo.CommitAsync("during");
            using var refused = await site.Hooks.PostAsync(Hooks.Push("push", 1, repo.PathWithNamespace, "refs/heads/main", first, lost));
            var body = await refused.Content.ReadAsStringAsync();
            Assert.AreEqual(HttpStatusCode.ServiceUnavailable, refused.StatusCode, body);
            StringAssert.Contains(body, "could not record the event in PostgreSQL");

            using var ready = await site.Http.GetAsync("/health/ready");
            Assert.AreEqual(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
            StringAssert.Contains(await ready.Content.ReadAsStringAsync(), "postgres", StringComparison.OrdinalIgnoreCase);
        }
        finally
        {
            await AdminSqlAsync($"ALTER DATABASE \"{site.PrimaryDatabase}\" WITH ALLOW_CONNECTIONS true");
        }

        // Back by itself: the next hook is recorded and replicated; the refused one never was.
        await repo.GitAsync("push", "-q", "origin", "main");
        await GeoSite.WaitUntilAsync(async () =>
        {
            using var ready = await site.Http.GetAsync("/health/ready");
            return ready.IsSuccessStatusCode;
        }, TimeSpan.FromSeconds(60), () => "geo-primary did not become ready again");
        await site.Hooks.AcceptedAsync(Hooks.Push("push", 1, repo.PathWithNamespace, "refs/heads/main", first, await repo.ShaAsync("main")));
        await site.WaitForMirrorsAsync(repo);
        Assert.AreEqual(2L, await site.EventCountAsync(), "exactly the two accepted hooks are in the event log");
    }

    /// <summary>Runs SQL as the test servers' user on the maintenance database.</summary>
    private static async Task AdminSqlAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(TestServers.ConnectionString("postgres"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
