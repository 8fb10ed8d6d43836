using Dapper;
using Geo.Events.Core.Storage;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Geo.Events.Secondary.Keys;

/// <summary>
/// Keeps this instance's authorized_keys equal to the registry when other instances of the secondary change it: listens
/// on <see cref="KeyRegistry.Channel"/> (PostgreSQL LISTEN/NOTIFY) and asks <see cref="AuthorizedKeysWriter"/> for a
/// rewrite on each notification from another instance, after every (re)connection (notifications sent while it was not listening are lost)
/// and every Keys:ResyncInterval.
/// </summary>
public sealed class KeyChangeListener(
    IOptions<DatabaseOptions> database, IOptions<KeysOptions> options, AuthorizedKeysWriter writer, ILogger<KeyChangeListener> logger) : BackgroundService
{
    private static readonly TimeSpan Retry = TimeSpan.FromSeconds(2);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!writer.Enabled)
        {
            return;
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await ListenAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException or IOException or InvalidOperationException)
            {
                logger.LogWarning("Key change listener: the connection to PostgreSQL failed ({Error}); listening again in {Retry}", e.Message, Retry);
                await Task.Delay(Retry, stoppingToken);
            }
        }
    }

    private async Task ListenAsync(CancellationToken stoppingToken)
    {
        await using var connection = await database.Value.OpenDedicatedAsync("geo-secondary key change listener", keepAliveSeconds: 10, stoppingToken);
        // This process's own changes asked the writer already (the payload names the instance; an older version sends none).
        connection.Notification += (_, e) =>
        {
            if (e.Payload != KeyRegistry.InstanceId)
            {
                writer.Changed();
            }
        };
        await connection.ExecuteAsync(new CommandDefinition($"LISTEN {KeyRegistry.Channel}", cancellationToken: stoppingToken));
        writer.Changed(); // whatever changed while nobody listened

        var resync = options.Value.ResyncInterval;
        while (true)
        {
            if (resync > TimeSpan.Zero)
            {
                if (!await connection.WaitAsync(resync, stoppingToken))
                {
                    writer.Changed();
                }
            }
            else
            {
                await connection.WaitAsync(stoppingToken);
            }
        }
    }
}
