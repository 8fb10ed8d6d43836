using System.Security.Cryptography;
using Dapper;
using Geo.Events.Contracts;
using Geo.Events.Core.Outbox;
using Geo.Events.Core.Paths;
using Geo.Events.Primary.Outbox;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Geo.Events.Primary.Files;

/// <summary>
/// Watches GitLab's file stores (Primary:Files) so a GitLab CE user needs no code of their own: every
/// Primary:FileScanInterval it walks each root and compares with <c>file_inventory</c>. A file is announced
/// (FileCreated, with its SHA-256) once its size and modification time have held for Primary:FileSettleTime,
/// so a half-written file is never announced; a file that disappears is announced as destroyed. The event
/// and the inventory change commit together, and the first scan after a start catches up on whatever
/// happened while geo-primary was down. Polling rather than inotify: it survives restarts, needs no watch
/// limits and sees files written over NFS. Runs on the leader only (<see cref="Leadership.LeaderLease"/>).
/// </summary>
public sealed class StorageWatcher(
    IOptions<PrimaryOptions> options, NpgsqlDataSource dataSource, OutboxSignal signal, Leadership.LeaderLease lease, ILogger<StorageWatcher> logger)
    : BackgroundService
{
    private sealed record Seen(string Path, long Size, DateTime Mtime, bool Announced, DateTime UpdatedAt);

    // Files whose name cannot be replicated are reported once per run of geo-primary, not on every scan.
    private const int MaxRemembered = 10_000;
    private readonly HashSet<string> _skipped = [];

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        lease.RunWhileLeaderAsync("Storage watcher", ScanLoopAsync, stoppingToken);

    private async Task ScanLoopAsync(CancellationToken stoppingToken)
    {
        var interval = options.Value.FileScanInterval;
        var roots = options.Value.FileRoots();
        if (interval <= TimeSpan.Zero || roots.Count == 0)
        {
            return;
        }

        using var timer = new PeriodicTimer(interval);
        do
        {
            foreach (var (kind, root) in roots)
            {
                try
                {
                    await ScanAsync(kind, root, stoppingToken);
                }
                catch (Exception e) when (e is NpgsqlException or IOException or UnauthorizedAccessException && !stoppingToken.IsCancellationRequested)
                {
                    logger.LogWarning("Could not scan the {Kind} store {Root}: {Error}; trying again next round", FilePath.Name(kind), root, e.Message);
                }
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>One pass over one store. Public for tests of the settle rule; the service calls it on its timer.</summary>
    public async Task ScanAsync(FileKind kind, string root, CancellationToken cancellationToken)
    {
        if (!Directory.Exists(root))
        {
            return;
        }

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var known = (await connection.QueryAsync<Seen>(new CommandDefinition(
                "SELECT path AS Path, size AS Size, mtime AS Mtime, announced AS Announced, updated_at AS UpdatedAt FROM file_inventory WHERE kind = @kind",
                new { kind = (short)kind }, cancellationToken: cancellationToken)))
            .ToDictionary(s => s.Path, StringComparer.Ordinal);
        var settle = options.Value.FileSettleTime;
        var onDisk = new HashSet<string>(StringComparer.Ordinal);
        var announced = 0;

        foreach (var file in Walk(root))
        {
            var path = Path.GetRelativePath(root, file.FullName).Replace(Path.DirectorySeparatorChar, '/');
            onDisk.Add(path);
            var mtime = file.LastWriteTimeUtc;
            var seen = known.GetValueOrDefault(path);
            if (seen is null || seen.Size != file.Length || Truncate(seen.Mtime) != Truncate(mtime))
            {
                // New or changed: remember it, announce it once it holds still.
                await connection.ExecuteAsync(new CommandDefinition(
                    """
                    INSERT INTO file_inventory (kind, path, size, mtime) VALUES (@kind, @path, @size, @mtime)
                    ON CONFLICT (kind, path) DO UPDATE SET size = EXCLUDED.size, mtime = EXCLUDED.mtime, announced = false, updated_at = now()
                    """,
                    new { kind = (short)kind, path, size = file.Length, mtime }, cancellationToken: cancellationToken));
                continue;
            }

            if (seen.Announced || DateTime.UtcNow - mtime < settle || DateTime.UtcNow - DateTime.SpecifyKind(seen.UpdatedAt, DateTimeKind.Utc) < settle)
            {
                continue;
            }

            var sha256 = await HashAsync(file.FullName, cancellationToken);
            file.Refresh();
            if (file.Length != seen.Size || Truncate(file.LastWriteTimeUtc) != Truncate(mtime))
            {
                continue; // written to while we read it: next round
            }

            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await EventLog.AppendAsync(connection, transaction, new FileCreated
            {
                EventId = Guid.CreateVersion7(),
                Sequence = 0,
                OccurredAt = DateTimeOffset.UtcNow,
                Kind = kind,
                Path = path,
                Size = seen.Size,
                Sha256 = sha256,
            }, null, cancellationToken, EventLog.StorageWatcher);
            await connection.ExecuteAsync(new CommandDefinition(
                "UPDATE file_inventory SET announced = true, sha256 = @sha256, updated_at = now() WHERE kind = @kind AND path = @path",
                new { kind = (short)kind, path, sha256 }, transaction, cancellationToken: cancellationToken));
            await transaction.CommitAsync(cancellationToken);
            announced++;
        }

        foreach (var gone in known.Values.Where(s => !onDisk.Contains(s.Path)))
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            if (gone.Announced)
            {
                await EventLog.AppendAsync(connection, transaction, new FileDestroyed
                {
                    EventId = Guid.CreateVersion7(),
                    Sequence = 0,
                    OccurredAt = DateTimeOffset.UtcNow,
                    Kind = kind,
                    Path = gone.Path,
                }, null, cancellationToken, EventLog.StorageWatcher);
                announced++;
            }

            await connection.ExecuteAsync(new CommandDefinition(
                "DELETE FROM file_inventory WHERE kind = @kind AND path = @path", new { kind = (short)kind, path = gone.Path }, transaction, cancellationToken: cancellationToken));
            await transaction.CommitAsync(cancellationToken);
        }

        if (announced > 0)
        {
            signal.Notify();
            logger.LogInformation("Storage watcher: {Count} {Kind} changes announced", announced, FilePath.Name(kind));
        }
    }

    /// <summary>Regular files under the root with acceptable paths; no links followed, no hidden or temp folders.</summary>
    private IEnumerable<FileInfo> Walk(string root)
    {
        var pending = new Stack<DirectoryInfo>([new DirectoryInfo(root)]);
        while (pending.Count > 0)
        {
            var folder = pending.Pop();
            foreach (var entry in folder.EnumerateFileSystemInfos())
            {
                if (entry.LinkTarget is not null || entry.Name.StartsWith('.'))
                {
                    continue;
                }

                if (entry is DirectoryInfo child)
                {
                    // GitLab stages uploads and LFS objects under tmp/ before moving them into place.
                    if (!(folder.FullName == Path.GetFullPath(root).TrimEnd(Path.DirectorySeparatorChar) && child.Name == "tmp"))
                    {
                        pending.Push(child);
                    }
                }
                else if (entry is FileInfo file)
                {
                    var relative = Path.GetRelativePath(root, file.FullName).Replace(Path.DirectorySeparatorChar, '/');
                    if (FilePath.Problem(relative) is not { } problem)
                    {
                        yield return file;
                    }
                    else if (_skipped.Count < MaxRemembered && _skipped.Add(root + "\0" + relative))
                    {
                        logger.LogWarning("Storage watcher skips {Path}: {Problem}; its name cannot be replicated safely (reported once)", relative, problem);
                    }
                }
            }
        }
    }

    private static async Task<string> HashAsync(string path, CancellationToken cancellationToken)
    {
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken));
    }

    /// <summary>PostgreSQL keeps microseconds, the file system ticks: compare at microsecond precision.</summary>
    private static long Truncate(DateTime time) => time.Ticks / 10;
}
