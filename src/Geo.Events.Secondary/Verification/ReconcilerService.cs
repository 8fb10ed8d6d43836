using Geo.Events.Secondary.Registration;

namespace Geo.Events.Secondary.Verification;

/// <summary>
/// Runs the <see cref="Reconciler"/> for as long as the service runs, once this secondary is registered; a failure
/// (PostgreSQL away at start) restarts it, not the host.
/// </summary>
public sealed class ReconcilerService(PrimaryRegistration registration, Reconciler reconciler, ILogger<ReconcilerService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (await registration.OutcomeAsync(stoppingToken) is not { } registered)
        {
            return;
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await reconciler.RunAsync(registered.Api, registered.JustRegistered, stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning("Backfill and verification stopped ({Error}); starting them again in 10 s", e.Message);
                await Task.Delay(TimeSpan.FromSeconds(10), stoppingToken);
            }
        }
    }
}
