using Geo.Events.Core.DeadLetters;
using Geo.Events.Core.Messaging;
using Geo.Events.Primary.Secondaries;
using Microsoft.Extensions.Options;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace Geo.Events.Primary.DeadLetters;

/// <summary>
/// Moves every secondary's dead letters (<c>_error</c> and <c>_skipped</c>) from RabbitMQ into the
/// <c>dead_letters</c> table, where geo-admin can group, show and replay them. A delivery is acknowledged
/// only after its row is committed; a crash in between stores it again, and the unique delivery hash keeps
/// one row. It also purges archived dead letters past their retention.
/// </summary>
public sealed class DeadLetterIngest(
    DeadLetterStore store,
    SecondaryQueues secondaryQueues,
    IOptions<PrimaryOptions> primary,
    IOptions<RabbitMqOptions> rabbit,
    ILogger<DeadLetterIngest> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await secondaryQueues.Declared.WaitAsync(stoppingToken);
        var connection = await ConnectAsync(stoppingToken);
        try
        {
            var channels = new List<IChannel>();
            var gate = new SemaphoreSlim(1, 1);
            var consumed = new HashSet<string>(StringComparer.Ordinal);
            async Task ConsumeSecondaryAsync(string secondary, CancellationToken cancellationToken)
            {
                await gate.WaitAsync(cancellationToken);
                try
                {
                    if (!consumed.Add(secondary))
                    {
                        return;
                    }

                    foreach (var queue in new[] { SecondaryTopology.ErrorQueue(secondary), SecondaryTopology.SkippedQueue(secondary) })
                    {
                        channels.Add(await ConsumeAsync(connection, secondary, queue, stoppingToken));
                    }
                }
                finally
                {
                    gate.Release();
                }
            }

            // Secondaries registered from now on are consumed as they come; those known already, at once.
            secondaryQueues.Added += ConsumeSecondaryAsync;
            foreach (var secondary in secondaryQueues.Known)
            {
                await ConsumeSecondaryAsync(secondary, stoppingToken);
            }

            while (!stoppingToken.IsCancellationRequested)
            {
                var purged = await store.PurgeArchivedAsync(primary.Value.DeadLetterArchiveRetention, stoppingToken);
                if (purged > 0)
                {
                    logger.LogInformation("Purged {Count} archived dead letters older than {Retention}", purged, primary.Value.DeadLetterArchiveRetention);
                }

                await Task.Delay(TimeSpan.FromHours(1), stoppingToken);
            }

            foreach (var channel in channels)
            {
                await channel.DisposeAsync();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            await connection.DisposeAsync();
        }
    }

    private async Task<IConnection> ConnectAsync(CancellationToken stoppingToken)
    {
        var delay = TimeSpan.FromSeconds(1);
        while (true)
        {
            try
            {
                return await rabbit.Value.ConnectAsync("geo-primary dead-letter ingest", stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested && e is not OperationCanceledException)
            {
                logger.LogWarning("Dead-letter ingest cannot reach RabbitMQ yet ({Error}); retrying in {Delay}", e.Message, delay);
                await Task.Delay(delay, stoppingToken);
                delay = TimeSpan.FromSeconds(Math.Min(delay.TotalSeconds * 2, 15));
            }
        }
    }

    private async Task<IChannel> ConsumeAsync(IConnection connection, string secondary, string queue, CancellationToken stoppingToken)
    {
        var channel = await connection.CreateChannelAsync(cancellationToken: stoppingToken);
        await channel.BasicQosAsync(0, 32, global: false, stoppingToken);
        var consumer = new AsyncEventingBasicConsumer(channel);
        consumer.ReceivedAsync += async (_, delivery) =>
        {
            try
            {
                var letter = DeadLetter.From(secondary, queue, SecondaryTopology.Queue(secondary),
                    AmqpMessage.Headers(delivery.BasicProperties), AmqpMessage.Properties(delivery.BasicProperties), delivery.Body.ToArray());
                if (await store.InsertAsync(letter, stoppingToken))
                {
                    logger.LogWarning("Dead letter from {Queue}: {MessageType} {MessageId} ({ExceptionType}: {Exception})",
                        queue, letter.MessageType, letter.MessageId, letter.ExceptionType, letter.ExceptionMessage);
                }

                await channel.BasicAckAsync(delivery.DeliveryTag, multiple: false, stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // Usually PostgreSQL is away: leave the message in its queue and try again shortly.
                logger.LogError("Could not store a dead letter from {Queue}: {Error}", queue, e.Message);
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken);
                await channel.BasicNackAsync(delivery.DeliveryTag, multiple: false, requeue: true, stoppingToken);
            }
        };
        await channel.BasicConsumeAsync(queue, autoAck: false, consumer, stoppingToken);
        return channel;
    }
}
