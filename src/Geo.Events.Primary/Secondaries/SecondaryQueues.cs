using Geo.Events.Core.Messaging;
using Microsoft.Extensions.Options;

namespace Geo.Events.Primary.Secondaries;

/// <summary>
/// Declares each configured secondary's queues (<see cref="SecondaryTopology"/>) at start, so that a
/// secondary that is stopped, or has never run, still collects its events from the first one on, and its
/// error queue exists before the dead-letter ingest consumes it.
/// </summary>
public sealed class SecondaryQueues(
    IOptions<PrimaryOptions> primaryOptions,
    IOptions<RabbitMqOptions> rabbitOptions,
    ILogger<SecondaryQueues> logger) : BackgroundService
{
    private readonly TaskCompletionSource _declared = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes once every configured secondary's queue exists and is bound.</summary>
    public Task Declared => _declared.Task;

    public bool IsDeclared => _declared.Task.IsCompletedSuccessfully;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var names = primaryOptions.Value.Secondaries;
        foreach (var name in names)
        {
            var problem = GeoTopology.SecondaryNameProblem(name);
            if (problem is not null)
            {
                throw new InvalidOperationException($"Primary:Secondaries: {problem}");
            }
        }

        var delay = TimeSpan.FromSeconds(1);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await DeclareAsync(rabbitOptions.Value, names, stoppingToken);
                logger.LogInformation("Declared queues for secondaries {Secondaries}", names);
                _declared.TrySetResult();
                return;
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning("Could not declare the secondaries' queues yet ({Error}); retrying in {Delay}", e.Message, delay);
                await Task.Delay(delay, stoppingToken);
                delay = TimeSpan.FromSeconds(Math.Min(delay.TotalSeconds * 2, 15));
            }
        }
    }

    public static async Task DeclareAsync(RabbitMqOptions options, IEnumerable<string> secondaries, CancellationToken cancellationToken)
    {
        await using var connection = await options.ConnectionFactory("geo-primary topology").CreateConnectionAsync(cancellationToken);
        await using var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
        foreach (var secondary in secondaries)
        {
            await SecondaryTopology.DeclareAsync(channel, secondary, cancellationToken);
        }
    }
}
