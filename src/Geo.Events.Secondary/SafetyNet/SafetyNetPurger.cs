using Geo.Events.Contracts;
using Geo.Events.Secondary.Repositories;
using LibGit2Sharp;
using Microsoft.Extensions.Options;

namespace Geo.Events.Secondary.SafetyNet;

/// <summary>
/// Purges what the safety net kept beyond its retention: trash entries older than Secondary:DestroyRetention, attic
/// refs older than Secondary:OverwriteRetention (each mirror under its lock), at most a minute late.
/// </summary>
public sealed class SafetyNetPurger(
    MirrorTrash trash,
    AtticRefs attic,
    MirrorLayout layout,
    MirrorFetcher fetcher,
    RepositoryLock locks,
    IOptions<SafetyNetOptions> options,
    IOptions<SyncOptions> syncOptions,
    ILogger<SafetyNetPurger> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var shortest = new[] { options.Value.DestroyRetention, options.Value.OverwriteRetention }.Where(t => t > TimeSpan.Zero).DefaultIfEmpty(TimeSpan.FromMinutes(4)).Min();
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(Math.Clamp(shortest.TotalSeconds / 4, 1, 60)));
        do
        {
            try
            {
                await Task.Run(trash.PurgeExpired, stoppingToken);
                await ExpireAtticAsync(stoppingToken);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or LibGit2SharpException or Npgsql.NpgsqlException or TimeoutException)
            {
                logger.LogWarning("Could not purge what the safety net kept: {Error}", e.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    private async Task ExpireAtticAsync(CancellationToken stoppingToken)
    {
        var cutoff = DateTime.UtcNow - options.Value.OverwriteRetention;
        foreach (var (projectId, kind) in await attic.ExpiredAsync(cutoff, stoppingToken))
        {
            await using (await locks.AcquireAsync(new RepositoryId(projectId, (RepositoryKind)kind), syncOptions.Value.LockTimeout, stoppingToken))
            {
                var mirror = layout.DataPath(projectId, (RepositoryKind)kind);
                var expired = await Task.Run(() =>
                {
                    if (!Directory.Exists(mirror))
                    {
                        return 0;
                    }

                    using var repo = new Repository(mirror);
                    return fetcher.ExpireAttic(repo);
                }, stoppingToken);
                await attic.ForgetAsync(projectId, kind, cutoff, stoppingToken);
                logger.LogInformation("Expired {Count} attic refs of project {ProjectId} ({Kind})", expired, projectId, (RepositoryKind)kind);
            }
        }
    }
}
