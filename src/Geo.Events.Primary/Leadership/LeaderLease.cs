using Dapper;
using Geo.Events.Core.Observability;
using Geo.Events.Core.Storage;
using Geo.Events.Primary.Outbox;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Geo.Events.Primary.Leadership;

/// <summary>
/// One leader among the geo-primary instances that share a database: the one whose dedicated connection holds the
/// PostgreSQL session advisory lock <see cref="LockKey"/>. Only the leader publishes the outbox and runs the change
/// detector and the storage watcher (<see cref="RunWhileLeaderAsync"/>); every instance accepts hooks. The lock lives
/// exactly as long as the session: a killed leader's connection closes and PostgreSQL frees the lock at once, and a
/// leader whose connection fails stops its leader-only work at once (it can no longer prove it holds the lock).
/// </summary>
/// <remarks>
/// The connection is not pooled: a pooled connection returned to the pool would keep the lock until its next use.
/// It also carries the wake-ups: an instance that does not lead sends <c>NOTIFY geo_outbox</c> when it committed an
/// event, and the leader, which listens, wakes its dispatcher, so a hook posted to either instance is published at once.
/// </remarks>
public sealed class LeaderLease(
    IOptions<DatabaseOptions> database, IOptions<PrimaryOptions> options, OutboxSignal signal, ILogger<LeaderLease> logger) : BackgroundService
{
    /// <summary>The lock's key (one bigint, "GEOLEAD"); advisory locks are per database, so each deployment has its own.</summary>
    public const long LockKey = 0x47_454F_4C45_4144;

    /// <summary>The channel on which instances that do not lead announce committed events to the leader.</summary>
    public const string Channel = "geo_outbox";

    private volatile TaskCompletionSource<CancellationToken> _term = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Whether this instance holds the lease right now.</summary>
    public bool IsLeader { get; private set; }

    /// <summary>
    /// Runs <paramref name="work"/> each time this instance becomes leader, with a token cancelled when it stops being
    /// leader (or the service stops). Work that returns by itself (e.g. turned off by its settings) is not started again.
    /// </summary>
    public async Task RunWhileLeaderAsync(string what, Func<CancellationToken, Task> work, CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var term = await _term.Task.WaitAsync(stoppingToken);
            if (term.IsCancellationRequested)
            {
                await Task.Delay(50, stoppingToken); // the next term's promise is being set up
                continue;
            }

            using var linked = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, term);
            try
            {
                await work(linked.Token);
                if (!term.IsCancellationRequested)
                {
                    return;
                }
            }
            catch (OperationCanceledException) when (term.IsCancellationRequested && !stoppingToken.IsCancellationRequested)
            {
            }

            logger.LogInformation("{What} stopped: this instance no longer leads", what);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        GeoMetrics.PrimaryLeader.Set(0);
        var retry = options.Value.LeaderRetryInterval;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await OpenAsync(stoppingToken);
                while (!await TryLockAsync(connection, stoppingToken))
                {
                    // Not the leader: pass on what this instance committed, then try again.
                    if (await signal.WaitAsync(retry, stoppingToken))
                    {
                        await connection.ExecuteAsync(new CommandDefinition($"NOTIFY {Channel}", cancellationToken: stoppingToken));
                    }
                }

                await LeadAsync(connection, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException or IOException or InvalidOperationException or OperationCanceledException)
            {
                logger.LogWarning("Leader lease: the connection to PostgreSQL failed ({Error}); trying again in {Retry}", e.Message, retry);
                await Task.Delay(retry, stoppingToken);
            }
        }
    }

    private Task<NpgsqlConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var seconds = (int)Math.Ceiling(options.Value.LeaderRetryInterval.TotalSeconds);
        return database.Value.OpenDedicatedAsync("geo-primary leader lease", seconds, cancellationToken, commandTimeoutSeconds: 2 * seconds + 1);
    }

    private static Task<bool> TryLockAsync(NpgsqlConnection connection, CancellationToken cancellationToken) =>
        connection.ExecuteScalarAsync<bool>(new CommandDefinition("SELECT pg_try_advisory_lock(@key)", new { key = LockKey }, cancellationToken: cancellationToken));

    /// <summary>Holds the lease until the connection fails or the service stops; leader-only work runs meanwhile.</summary>
    private async Task LeadAsync(NpgsqlConnection connection, CancellationToken stoppingToken)
    {
        connection.Notification += (_, _) => signal.Notify();
        await connection.ExecuteAsync(new CommandDefinition($"LISTEN {Channel}", cancellationToken: stoppingToken));

        using var term = new CancellationTokenSource();
        var promise = _term;
        IsLeader = true;
        GeoMetrics.PrimaryLeader.Set(1);
        logger.LogInformation("This geo-primary instance now leads: it publishes the outbox and runs the change detector and storage watcher");
        promise.TrySetResult(term.Token);
        try
        {
            while (true)
            {
                // Notifications arrive while waiting; a closed or broken connection throws here, a silent one fails the query.
                if (!await connection.WaitAsync(options.Value.LeaderRetryInterval, stoppingToken))
                {
                    await connection.ExecuteScalarAsync<int>(new CommandDefinition("SELECT 1", cancellationToken: stoppingToken));
                }
            }
        }
        finally
        {
            // A new promise first, so that work which sees its term end waits for the next one.
            _term = new TaskCompletionSource<CancellationToken>(TaskCreationOptions.RunContinuationsAsynchronously);
            IsLeader = false;
            GeoMetrics.PrimaryLeader.Set(0);
            await term.CancelAsync();
            if (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning("This geo-primary instance lost the leader lease (its PostgreSQL connection failed); leader-only work stopped");
            }
        }
    }
}
