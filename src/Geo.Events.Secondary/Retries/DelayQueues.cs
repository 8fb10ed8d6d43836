using Geo.Events.Core.Messaging;
using Microsoft.Extensions.Options;

namespace Geo.Events.Secondary.Retries;

/// <summary>
/// Declares this secondary's delay queues (see <see cref="SecondaryTopology.DeclareDelaysAsync"/>) once,
/// before the first redelivery uses them: a message sent to a delay exchange with no queue bound would be
/// dropped by the broker.
/// </summary>
public sealed class DelayQueues(IOptions<RabbitMqOptions> rabbit, IOptions<SecondaryOptions> secondary, IOptions<RetryOptions> retry)
{
    private readonly Lock _gate = new();
    private Task? _declared;

    public Task EnsureDeclaredAsync()
    {
        lock (_gate)
        {
            if (_declared is null || _declared.IsFaulted || _declared.IsCanceled)
            {
                _declared = DeclareAsync();
            }

            return _declared;
        }
    }

    private async Task DeclareAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await using var connection = await rabbit.Value.ConnectAsync("geo-secondary topology", timeout.Token);
        await using var channel = await connection.CreateChannelAsync(cancellationToken: timeout.Token);
        await SecondaryTopology.DeclareDelaysAsync(channel, secondary.Value.Name, retry.Value.DelayIntervals, timeout.Token);
    }
}
