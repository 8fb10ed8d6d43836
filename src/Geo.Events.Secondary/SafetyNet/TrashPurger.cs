using Microsoft.Extensions.Options;

namespace Geo.Events.Secondary.SafetyNet;

/// <summary>Purges what the trash kept longer than Secondary:DestroyRetention, at most a minute late.</summary>
public sealed class TrashPurger(MirrorTrash trash, IOptions<SafetyNetOptions> options, ILogger<TrashPurger> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var retention = options.Value.DestroyRetention;
        var period = TimeSpan.FromSeconds(Math.Clamp(retention.TotalSeconds / 4, 1, 60));
        using var timer = new PeriodicTimer(period);
        do
        {
            try
            {
                await Task.Run(trash.PurgeExpired, stoppingToken);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                logger.LogWarning("Could not purge the trash: {Error}", e.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
