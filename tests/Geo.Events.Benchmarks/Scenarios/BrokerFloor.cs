using System.Diagnostics;
using Geo.Events.Core.Messaging;
using Geo.Events.Testing;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace Geo.Events.Benchmarks.Scenarios;

/// <summary>
/// The broker's floor for the pipeline: raw RabbitMQ.Client publishing with confirms (up to 200 in
/// flight, as geo-primary's dispatcher does) and consuming with one ack per message, on a quorum queue,
/// with a body the size of a MassTransit envelope of SshKeyCreated.
/// </summary>
public static class BrokerFloor
{
    public const int BodySize = 1100;

    public static async Task<double> MessagesPerSecondAsync(int messages)
    {
        var vhost = "geo-bench-" + Guid.NewGuid().ToString("N")[..8];
        await TestServers.CreateVhostAsync(vhost);
        try
        {
            await using var connection = await TestServers.RabbitOptions(vhost).ConnectionFactory("geo-bench floor").CreateConnectionAsync();
            await using var publisher = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
            await using var consumerChannel = await connection.CreateChannelAsync();
            await publisher.QueueDeclareAsync("floor", durable: true, exclusive: false, autoDelete: false,
                arguments: new Dictionary<string, object?> { ["x-queue-type"] = "quorum" });
            await consumerChannel.BasicQosAsync(0, 64, global: false);

            var received = 0;
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var consumer = new AsyncEventingBasicConsumer(consumerChannel);
            consumer.ReceivedAsync += async (_, delivery) =>
            {
                await consumerChannel.BasicAckAsync(delivery.DeliveryTag, multiple: false);
                if (Interlocked.Increment(ref received) == messages)
                {
                    done.TrySetResult();
                }
            };
            await consumerChannel.BasicConsumeAsync("floor", autoAck: false, consumer);

            var body = new byte[BodySize];
            Random.Shared.NextBytes(body);
            var properties = new BasicProperties { Persistent = true, ContentType = "application/vnd.masstransit+json" };
            var clock = Stopwatch.StartNew();
            using var inFlight = new SemaphoreSlim(200);
            var publishes = new List<Task>(messages);
            for (var i = 0; i < messages; i++)
            {
                await inFlight.WaitAsync();
                publishes.Add(Publish());
            }

            await Task.WhenAll(publishes);
            await done.Task.WaitAsync(TimeSpan.FromMinutes(5));
            return messages / clock.Elapsed.TotalSeconds;

            async Task Publish()
            {
                try
                {
                    await publisher.BasicPublishAsync("", "floor", mandatory: false, properties, body);
                }
                finally
                {
                    inFlight.Release();
                }
            }
        }
        finally
        {
            await TestServers.DeleteVhostAsync(vhost);
        }
    }
}
