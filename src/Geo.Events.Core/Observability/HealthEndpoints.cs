using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Npgsql;
using Prometheus;

namespace Geo.Events.Core.Observability;

/// <summary>
/// <c>/health/live</c> (the process answers), <c>/health/ready</c> (PostgreSQL and RabbitMQ answer, and
/// whatever else the service adds; a 503 names each failure) and <c>/metrics</c> for Prometheus.
/// </summary>
public static class HealthEndpoints
{
    public static void MapGeoHealthAndMetrics(this WebApplication app, Func<IServiceProvider, IEnumerable<string>>? extraFailures = null,
        Func<IServiceProvider, string>? role = null)
    {
        app.MapGet("/health/live", () => Results.Ok(new { status = "live" }));
        app.MapGet("/health/ready", async (NpgsqlDataSource db, IBusControl bus, IServiceProvider services, CancellationToken cancellationToken) =>
        {
            var failures = new List<string>();
            try
            {
                await using var command = db.CreateCommand("SELECT 1");
                await command.ExecuteScalarAsync(cancellationToken);
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException)
            {
                failures.Add($"postgresql: {e.Message}");
            }

            var health = bus.CheckHealth();
            if (health.Status != BusHealthStatus.Healthy)
            {
                failures.Add($"rabbitmq: {health.Description}");
            }

            failures.AddRange(extraFailures?.Invoke(services) ?? []);
            // role: what this instance does among several of the same service (geo-primary: leader or standby).
            var body = new Dictionary<string, object> { ["status"] = failures.Count == 0 ? "ready" : "not ready" };
            if (role?.Invoke(services) is { } name)
            {
                body["role"] = name;
            }

            if (failures.Count > 0)
            {
                body["failures"] = failures;
            }

            return Results.Json(body, statusCode: failures.Count == 0 ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
        });
        app.MapMetrics("/metrics");
    }
}
