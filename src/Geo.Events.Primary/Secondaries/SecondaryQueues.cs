using Geo.Events.Core.Messaging;
using Geo.Events.Core.Secondaries;
using Microsoft.Extensions.Options;

namespace Geo.Events.Primary.Secondaries;

/// <summary>
/// Declares the queues (<see cref="SecondaryTopology"/>) of every secondary geo-primary knows, configured
/// (Primary:Secondaries) or registered (the secondaries table), at start and at each registration, so that
/// a secondary that is stopped, or has never run, still collects its events from the first one on, and its
/// error queue exists before the dead-letter ingest consumes it.
/// </summary>
public sealed class SecondaryQueues(
    IOptions<PrimaryOptions> primaryOptions,
    IOptions<RabbitMqOptions> rabbitOptions,
    SecondaryStore store,
    ILogger<SecondaryQueues> logger) : BackgroundService
{
    private readonly TaskCompletionSource _declared = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly HashSet<string> _known = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    /// <summary>Raised once per secondary whose queues are declared, with its name.</summary>
    public event Func<string, CancellationToken, Task>? Added;

    /// <summary>The secondaries whose queues are declared.</summary>
    public IReadOnlyCollection<string> Known
    {
        get
        {
            lock (_gate)
            {
                return [.. _known];
            }
        }
    }

    /// <summary>Declares a newly registered secondary's queues now; idempotent.</summary>
    public async Task AddAsync(string name, CancellationToken cancellationToken)
    {
        await DeclareAsync(rabbitOptions.Value, [name], cancellationToken);
        await NoteAsync([name], cancellationToken);
    }

    private async Task NoteAsync(IEnumerable<string> names, CancellationToken cancellationToken)
    {
        foreach (var name in names)
        {
            bool added;
            lock (_gate)
            {
                added = _known.Add(name);
            }

            if (added && Added is { } handler)
            {
                await handler(name, cancellationToken);
            }
        }
    }

    /// <summary>Completes once every configured secondary's queue exists and is bound.</summary>
    public Task Declared => _declared.Task;

    public bool IsDeclared => _declared.Task.IsCompletedSuccessfully;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var configured = primaryOptions.Value.Secondaries;
        foreach (var name in configured)
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
                var names = configured.Union(await store.NamesAsync(stoppingToken)).ToList();
                await DeclareAsync(rabbitOptions.Value, names, stoppingToken);
                logger.LogInformation("Declared queues for secondaries {Secondaries}", names);
                await NoteAsync(names, stoppingToken);
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
        await using var connection = await options.ConnectAsync("geo-primary topology", cancellationToken);
        await using var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
        foreach (var secondary in secondaries)
        {
            await SecondaryTopology.DeclareAsync(channel, secondary, cancellationToken);
        }
    }
}
