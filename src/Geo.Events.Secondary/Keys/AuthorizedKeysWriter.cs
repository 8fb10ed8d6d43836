using System.Threading.Channels;
using Geo.Events.Core.Observability;
using Microsoft.Extensions.Options;

namespace Geo.Events.Secondary.Keys;

/// <summary>
/// Keeps authorized_keys equal to the registry's live keys. Consumers only update the registry and call
/// <see cref="Changed"/>; this service gathers changes for a short window and rewrites the file once, so a
/// burst of 1,000 key events costs a few rewrites, not 1,000. It also rewrites at start, which repairs a
/// crash between a registry commit and the file.
/// </summary>
public sealed class AuthorizedKeysWriter(KeyRegistry registry, IOptions<KeysOptions> options, ILogger<AuthorizedKeysWriter> logger) : BackgroundService
{
    private readonly Channel<bool> _changes = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    public bool Enabled => options.Value.AuthorizedKeysFile.Length > 0;

    public void Changed() => _changes.Writer.TryWrite(true);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!Enabled)
        {
            logger.LogInformation("Keys:AuthorizedKeysFile is empty: keys are served through AuthorizedKeysCommand only");
            return;
        }

        var file = new AuthorizedKeysFile(options.Value.AuthorizedKeysFile, options.Value.ShellCommand, options.Value.LockTimeout);
        Changed();
        while (await _changes.Reader.WaitToReadAsync(stoppingToken))
        {
            await Task.Delay(options.Value.BatchWindow, stoppingToken);
            _changes.Reader.TryRead(out _);
            try
            {
                var keys = await file.RewriteAsync(registry.LiveKeysAsync(stoppingToken), stoppingToken);
                GeoMetrics.AuthorizedKeysRewrites.Inc();
                logger.LogInformation("Rewrote {File} with {Keys} keys", file.Path, keys);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The registry still holds the truth: try again shortly.
                logger.LogError(e, "Could not rewrite {File}; retrying", file.Path);
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken);
                Changed();
            }
        }
    }
}
