using Microsoft.Extensions.Options;
using Npgsql;

namespace Geo.Events.Secondary.Registration;

/// <summary>
/// Once registered, reports this secondary's status to geo-primary every Secondary:HeartbeatInterval (the first
/// at once) and passes the requests geo-admin left in the answer on to the reconciler.
/// </summary>
public sealed class StatusHeartbeat(
    IOptions<SecondaryOptions> options,
    PrimaryRegistration registration,
    SiteStatus status,
    AppliedEvents applied,
    Verification.Reconciler reconciler,
    SafetyNet.SafetyNetRequests safetyNet,
    ILogger<StatusHeartbeat> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (await registration.OutcomeAsync(stoppingToken) is not { } registered)
        {
            return;
        }

        using var timer = new PeriodicTimer(options.Value.HeartbeatInterval);
        do
        {
            try
            {
                var answer = await registered.Api.ReportAsync(await status.CollectAsync(stoppingToken), stoppingToken);
                if (answer.AppliedThrough is { } through)
                {
                    await applied.ForgetThroughAsync(through, stoppingToken);
                }

                foreach (var request in answer.Requests)
                {
                    if (Contracts.Api.SafetyNetKind.Is(request.Kind))
                    {
                        await safetyNet.HandleAsync(request, stoppingToken);
                    }
                    else
                    {
                        await reconciler.RequestAsync(request, stoppingToken);
                    }
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or NpgsqlException or System.Text.Json.JsonException && !stoppingToken.IsCancellationRequested)
            {
                // The primary being away for a while is not this secondary's problem: it keeps applying events.
                logger.LogWarning("Could not report status to geo-primary: {Error}", e.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
