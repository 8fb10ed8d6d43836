using System.Text.Json;
using Dapper;
using Geo.Events.Contracts;
using Geo.Events.Core.Observability;
using Geo.Events.Core.Outbox;
using Geo.Events.Core.Repositories;
using Geo.Events.Primary.Inventory;
using Geo.Events.Primary.Outbox;
using LibGit2Sharp;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Geo.Events.Primary.Repositories;

/// <summary>
/// The repository change detector. GitLab sends no hook for a git push to a wiki, for a fork or an import
/// filling a new project, for a group transfer, and never retries a hook it failed to deliver; every
/// Primary:RepositoryScanInterval this walks GitLab's repository storages and records, through the outbox, what
/// changed and no hook announced: <see cref="RepositoryChanged"/> (trigger <c>repository_scan</c>) when a
/// repository's refs or HEAD moved, <see cref="ProjectRenamed"/> when a hashed repository's
/// <c>gitlab.fullpath</c> moved.
/// </summary>
/// <remarks>
/// <para>Cheap when nothing changed: each repository costs a few <c>stat</c>s (<see cref="RepositoryProbe.Stat"/>);
/// its refs are read only when those moved. What it saw is kept in <c>repository_scan</c>, changed in the same
/// transaction as the events it adds, so a restart (even a SIGKILL) announces what changed meanwhile, and nothing twice.</para>
/// <para>Not twice what a hook said: a change is covered when the ref updates of the hooks recorded for that
/// repository since its last read (<c>read_seq</c>), undone in reverse order from the refs just read, give back
/// exactly the refs read last time. Anything else (no hook, a lost hook, refs a hook does not list, a HEAD
/// change) is announced. Content, not timing, decides, so a hook that arrives before or after the pass makes no
/// difference, and a hookless change is announced by the first pass that sees it: within one interval plus one
/// pass.</para>
/// <para>Never writes to the storage and never follows a symbolic link (a linked folder or file is skipped or makes
/// its repository unreadable); a repository it cannot read is logged once, counted in
/// <c>geo_repository_scan_unreadable</c>, and the pass goes on.</para>
/// <para>The first pass over a storage only records (a new deployment does not announce its whole storage: backfill
/// covers what secondaries lack); <c>repository_scan_baseline</c> says it was done, so no later pass is silent.</para>
/// </remarks>
public sealed class RepositoryScanner(
    IOptions<PrimaryOptions> options, NpgsqlDataSource dataSource, EventLog eventLog, OutboxSignal signal, Leadership.LeaderLease lease,
    ILogger<RepositoryScanner> logger) : BackgroundService
{
    public const string Trigger = "repository_scan";

    /// <summary>How many passes in a row a snippet or group wiki must be missing before its destroy is recorded.</summary>
    public const int MissingPassesBeforeDestroy = 2;
    private const int MaxRemembered = 10_000;

    private sealed record Row(string Storage, string DiskPath, short Kind, long ProjectId, string FullPath, string Stat, string Checksum, string? Head, long ReadSeq);

    private sealed record Seen(string Storage, string Dir, StoredRepository Repository, string Stat, RepositoryProbe.State State, Row? Old);

    /// <summary>
    /// A repository folder the walk found, kept with its storage folder's listing: its folders under refs/ and, once
    /// its row was found to hold the same stat, the fingerprint of that stat. A pass finding the same fingerprint
    /// again moves on with one lstat per folder, no lookup and no allocation.
    /// </summary>
    private sealed class Tracked(string storage, string dir, StoredRepository repository)
    {
        public readonly (string Storage, string DiskPath) Key = (storage, repository.DiskPath);
        public readonly string Dir = dir;
        public readonly StoredRepository Repository = repository;
        public string[]? Folders;
        public ulong Fingerprint; // 0: not known to match its row
    }

    /// <summary>A change no hook explained yet: first seen at <paramref name="Since"/>, refs <paramref name="Checksum"/> at <paramref name="SeenAt"/>.</summary>
    private sealed record Pending(DateTime FirstSeen, long Since, string Checksum, DateTime SeenAt);

    /// <summary>What one pass did.</summary>
    public sealed record PassResult(int Scanned, int Read, int Unreadable, int Announced, TimeSpan Duration);

    private readonly IOptions<PrimaryOptions> _options = options;
    private readonly EventLog _eventLog = eventLog;
    private readonly Dictionary<(string, string), Row> _known = [];
    // In memory only: each storage folder's subfolders and repositories by its lstat, so a pass with nothing changed
    // lists no folder at all, and each repository's folders under refs/ and last fingerprint (see Tracked).
    private readonly Dictionary<string, (RepositoryProbe.Stamp Stamp, string[] Folders, Tracked[] Repositories)> _listings = new(StringComparer.Ordinal);
    private bool _loaded;
    private readonly Dictionary<(string, string), Pending> _pending = [];
    private readonly Dictionary<string, long?> _hashedIds = new(StringComparer.Ordinal);
    private readonly HashSet<string> _reported = [];
    private readonly HashSet<string> _baselined = new(StringComparer.Ordinal);
    private readonly Dictionary<(string, string), int> _missing = []; // snippets and group wikis missing on the last passes: how many

    /// <summary>Runs on the leader only (<see cref="Leadership.LeaderLease"/>); a new term reads the state again, which another leader may have moved.</summary>
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        lease.RunWhileLeaderAsync("Repository change detector", term =>
        {
            _loaded = false;
            return ScanLoopAsync(term);
        }, stoppingToken);

    private async Task ScanLoopAsync(CancellationToken stoppingToken)
    {
        var interval = _options.Value.RepositoryScanInterval;
        if (interval <= TimeSpan.Zero || _options.Value.Storages().Count == 0)
        {
            return;
        }

        using var timer = new PeriodicTimer(interval);
        do
        {
            try
            {
                await PassAsync(stoppingToken);
                var grace = _options.Value.RepositoryHookGrace;
                if (_pending.Count > 0 && grace < interval)
                {
                    // Changes no hook explained yet: look at those again once a hook has had time to arrive.
                    await Task.Delay(grace, stoppingToken);
                    await RunAsync(pendingOnly: true, stoppingToken);
                }
            }
            catch (Exception e) when (e is NpgsqlException or IOException or UnauthorizedAccessException && !stoppingToken.IsCancellationRequested)
            {
                _loaded = false; // read the state again: a transaction may not have committed
                logger.LogWarning("Repository change detector: the pass failed ({Error}); trying again next interval", e.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>One pass over every storage.</summary>
    public Task<PassResult> PassAsync(CancellationToken cancellationToken) => RunAsync(pendingOnly: false, cancellationToken);

    /// <summary>A pass over every storage, or (<paramref name="pendingOnly"/>) over the changes held for a hook.</summary>
    private async Task<PassResult> RunAsync(bool pendingOnly, CancellationToken cancellationToken)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var passStart = await connection.ExecuteScalarAsync<long>(new CommandDefinition("SELECT coalesce(max(id), 0) FROM event_log", cancellationToken: cancellationToken));
        if (!_loaded)
        {
            _known.Clear();
            _listings.Clear(); // the fingerprints found equal to rows that may have changed meanwhile
            foreach (var row in await connection.QueryAsync<Row>(new CommandDefinition(
                         "SELECT storage, disk_path AS DiskPath, kind, project_id AS ProjectId, full_path AS FullPath, stat, checksum, head, read_seq AS ReadSeq FROM repository_scan",
                         cancellationToken: cancellationToken)))
            {
                _known[(row.Storage, row.DiskPath)] = row;
            }

            _baselined.Clear();
            _baselined.UnionWith(await connection.QueryAsync<string>(new CommandDefinition(
                "SELECT storage FROM repository_scan_baseline", cancellationToken: cancellationToken)));
            _loaded = true;
        }

        // A storage never walked to the end before gets a silent first pass (backfill covers what secondaries lack);
        // whether it was is recorded, not guessed from an empty table, so a restart never swallows a change.
        HashSet<string> baseline = pendingOnly ? [] : _options.Value.Storages().Select(s => s.Key).Where(s => !_baselined.Contains(s)).ToHashSet(StringComparer.Ordinal);

        // Walk: stat everything, read what moved.
        var recent = RepositoryProbe.RecentNanoseconds();
        var seenKeys = new HashSet<(string, string)>();
        var walked = new HashSet<string>(StringComparer.Ordinal);
        var moved = new List<Seen>();
        int scanned = 0, unreadable = 0;
        foreach (var (storage, root) in _options.Value.Storages())
        {
            if (!Directory.Exists(root))
            {
                logger.LogWarning("Repository change detector: storage {Storage} ({Root}) is missing; its repositories are left as they were", storage, root);
                continue;
            }

            if (!pendingOnly)
            {
                walked.Add(storage);
            }

            foreach (var item in pendingOnly ? PendingIn(storage, root) : Walk(storage, root))
            {
                cancellationToken.ThrowIfCancellationRequested();
                scanned++;
                seenKeys.Add(item.Key);
                // Unchanged since its row was found to hold this very fingerprint: one lstat per folder, nothing else.
                if (item.Fingerprint != 0 && item.Folders is not null && RepositoryProbe.Fingerprint(item.Dir, item.Folders, recent) == item.Fingerprint)
                {
                    continue;
                }

                item.Fingerprint = 0;
                var old = _known.GetValueOrDefault(item.Key);
                try
                {
                    // The folders looked at last time first: when only a file moved, no listing of refs/.
                    var folders = item.Folders;
                    var stat = folders is null ? null : RepositoryProbe.Stat(item.Dir, ref folders);
                    if (old is null || old.Stat != stat)
                    {
                        folders = null;
                        stat = RepositoryProbe.Stat(item.Dir, ref folders);
                        item.Folders = folders;
                    }

                    if (old?.Stat == stat)
                    {
                        item.Fingerprint = stat!.StartsWith("v2:", StringComparison.Ordinal) ? Convert.ToUInt64(stat[3..], 16) : 0;
                        continue;
                    }

                    moved.Add(new Seen(storage, item.Dir, item.Repository, stat!, RepositoryProbe.Read(item.Dir), old));
                }
                catch (Exception e) when (e is LibGit2SharpException or IOException or UnauthorizedAccessException)
                {
                    unreadable++;
                    Report(storage, item.Repository.DiskPath, $"cannot be read: {e.Message}");
                }
            }
        }

        // Identify (project id, path) and announce.
        var identify = new Identifier(this, cancellationToken);
        await identify.ResolveHashesAsync(moved.Where(m => m.Old is null && m.Repository.Hash is not null).Select(m => m.Repository.Hash!));
        var announced = 0;
        var unchanged = new List<Row>();
        var recorded = new List<Row>();
        foreach (var seen in moved)
        {
            var (projectId, path) = await identify.ProjectAsync(seen);
            if (projectId is null || path is null)
            {
                Report(seen.Storage, seen.Repository.DiskPath, projectId is null
                    ? "has no known project id yet (legacy storage: until a hook names its path; hashed: beyond Primary:HashedIdScanLimit)"
                    : "has no valid gitlab.fullpath in its config");
                continue;
            }

            var row = new Row(seen.Storage, seen.Repository.DiskPath, (short)seen.Repository.Kind, projectId.Value, path, seen.Stat, seen.State.Checksum, seen.State.Head, passStart);
            if (seen.Old is { } old && old.ProjectId == row.ProjectId && old.FullPath == row.FullPath && old.Checksum == row.Checksum && old.Head == row.Head)
            {
                unchanged.Add(row);
                continue;
            }

            if (baseline.Contains(row.Storage))
            {
                recorded.Add(row);
                continue;
            }

            // A repository seen for the first time is explained, if at all, by every hook its project ever had: a pass
            // that did not list its folder yet must not hide the hooks recorded before it.
            announced += await RecordAsync(connection, seen, row, since: seen.Old?.ReadSeq ?? 0, identify, cancellationToken);
        }

        // The first pass's rows and the record that it was done, in one transaction: a kill between the two would
        // leave a baseline with rows missing (announced later as new) or rows with no baseline (a second silent pass).
        var done = baseline.Where(walked.Contains).ToList();
        if (recorded.Count > 0 || done.Count > 0)
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await SaveAsync(connection, transaction, recorded, cancellationToken);
            foreach (var storage in done)
            {
                await connection.ExecuteAsync(new CommandDefinition(
                    "INSERT INTO repository_scan_baseline (storage) VALUES (@storage) ON CONFLICT DO NOTHING", new { storage }, transaction, cancellationToken: cancellationToken));
            }

            await transaction.CommitAsync(cancellationToken);
            foreach (var row in recorded)
            {
                _known[(row.Storage, row.DiskPath)] = row;
            }

            _baselined.UnionWith(done);
        }

        await SaveUnchangedAsync(connection, unchanged, cancellationToken);
        if (!pendingOnly)
        {
            await ForgetGoneAsync(connection, seenKeys, walked, cancellationToken);
            foreach (var key in _pending.Keys.Where(k => !seenKeys.Contains(k)).ToList())
            {
                _pending.Remove(key); // gone, or unreadable now
            }
        }

        if (announced > 0)
        {
            signal.Notify();
        }

        var duration = System.Diagnostics.Stopwatch.GetElapsedTime(started);
        if (!pendingOnly)
        {
            GeoMetrics.RepositoryScanDuration.Observe(duration.TotalSeconds);
            GeoMetrics.RepositoriesScanned.Set(scanned);
            GeoMetrics.RepositoriesUnreadable.Set(unreadable);
        }

        if (baseline.Count > 0 && recorded.Count > 0)
        {
            logger.LogInformation("Repository change detector: first pass recorded {Count} repositories without announcing them", recorded.Count);
        }
        else if (announced > 0 || moved.Count > 0)
        {
            logger.LogInformation("Repository change detector: {Scanned} repositories, {Read} read, {Announced} events recorded, {Unreadable} unreadable, in {Duration} ms",
                scanned, moved.Count, announced, unreadable, (long)duration.TotalMilliseconds);
        }

        return new PassResult(scanned, moved.Count, unreadable, announced, duration);
    }

    /// <summary>
    /// Records one repository's new state and the events it calls for, in one transaction, and returns the events
    /// added; or holds a change no hook explains until it has been seen for Primary:RepositoryHookGrace.
    /// </summary>
    private async Task<int> RecordAsync(NpgsqlConnection connection, Seen seen, Row row, long since, Identifier identify, CancellationToken cancellationToken)
    {
        var kind = seen.Repository.Kind;
        var key = (row.Storage, row.DiskPath);
        if (_pending.TryGetValue(key, out var pending))
        {
            since = Math.Min(since, pending.Since);
        }

        var events = new List<IGeoEvent>();
        // A path change the storage shows (a group transfer, a rename whose hook was lost): the same event a rename hook makes.
        if (kind == RepositoryKind.GroupWiki && seen.Old is { } oldGroup && oldGroup.FullPath != row.FullPath)
        {
            // A group's wiki names the group's path: a group transfer (no hook at all) or a rename whose hook was lost.
            // Its projects move with it, as with group_rename (a second announcement of one rename changes nothing).
            events.Add(new NamespaceRenamed
            {
                EventId = Guid.CreateVersion7(),
                Sequence = 0,
                OccurredAt = DateTimeOffset.UtcNow,
                GroupId = row.ProjectId,
                FullPath = row.FullPath,
                OldFullPath = oldGroup.FullPath,
                Trigger = Trigger,
            });
        }

        if (kind == RepositoryKind.Project && seen.Old is { } old && old.FullPath != row.FullPath && await identify.AnnouncedPathAsync(row.ProjectId) != row.FullPath)
        {
            events.Add(new ProjectRenamed
            {
                EventId = Guid.CreateVersion7(),
                Sequence = 0,
                OccurredAt = DateTimeOffset.UtcNow,
                ProjectId = row.ProjectId,
                PathWithNamespace = row.FullPath,
                OldPathWithNamespace = old.FullPath,
                Trigger = Trigger,
            });
        }

        // A new repository without a ref (a project just created, a wiki not written yet) has nothing to mirror: its first refs will be announced.
        var refsMoved = seen.Old is null ? seen.State.Refs.Count > 0 : seen.Old.Checksum != row.Checksum || seen.Old.Head != row.Head;
        if (refsMoved)
        {
            var previous = seen.Old?.Checksum ?? RefsChecksum.Of(new Dictionary<string, string>());
            var headKept = seen.Old is null || seen.Old.Head == row.Head;
            var (explained, throughSeq) = headKept
                ? await ExplainedByHooksAsync(connection, row.ProjectId, kind, since, previous, seen.State.Refs, cancellationToken)
                : (false, 0L);
            if (explained)
            {
                GeoMetrics.RepositoryChangesCovered.Inc();
                // Those hooks are accounted for in the refs just read, even one recorded after this pass began: the next
                // look starts after them, or it would undo them again from refs that already include them.
                row = row with { ReadSeq = Math.Max(row.ReadSeq, throughSeq) };
            }
            else
            {
                events.Add(new RepositoryChanged
                {
                    EventId = Guid.CreateVersion7(),
                    Sequence = 0,
                    OccurredAt = DateTimeOffset.UtcNow,
                    ProjectId = row.ProjectId,
                    PathWithNamespace = row.FullPath,
                    Kind = kind,
                    Trigger = Trigger,
                    RefsChecksum = row.Checksum,
                    Head = row.Head,
                });
            }
        }

        var now = DateTime.UtcNow;
        if (events.Count > 0)
        {
            if (pending is null)
            {
                _pending[key] = new Pending(now, since, row.Checksum, now); // a hook may still be on its way
                return 0;
            }

            // Refs that moved again during the grace belong to a push whose hook may be on its way too: look again
            // once they hold still, but no later than one interval after the change was first seen (the bound).
            var settled = pending.Checksum == row.Checksum;
            if (now - pending.SeenAt < _options.Value.RepositoryHookGrace
                || (!settled && now - pending.FirstSeen < _options.Value.RepositoryScanInterval))
            {
                _pending[key] = settled ? pending : pending with { Checksum = row.Checksum, SeenAt = now };
                return 0;
            }
        }

        _pending.Remove(key);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // Another geo-primary instance may have recorded the same change: only the one whose update finds the old state wins.
        var written = await connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO repository_scan (storage, disk_path, kind, project_id, full_path, stat, checksum, head, read_seq)
            VALUES (@Storage, @DiskPath, @Kind, @ProjectId, @FullPath, @Stat, @Checksum, @Head, @ReadSeq)
            ON CONFLICT (storage, disk_path) DO UPDATE SET
                kind = EXCLUDED.kind, project_id = EXCLUDED.project_id, full_path = EXCLUDED.full_path, stat = EXCLUDED.stat,
                checksum = EXCLUDED.checksum, head = EXCLUDED.head, read_seq = EXCLUDED.read_seq, changed_at = now()
            WHERE repository_scan.checksum = @OldChecksum AND repository_scan.full_path = @OldFullPath
            """,
            new { row.Storage, row.DiskPath, row.Kind, row.ProjectId, row.FullPath, row.Stat, row.Checksum, row.Head, row.ReadSeq, OldChecksum = seen.Old?.Checksum, OldFullPath = seen.Old?.FullPath },
            transaction, cancellationToken: cancellationToken));
        if (written == 0)
        {
            await transaction.RollbackAsync(cancellationToken);
            _loaded = false;
            return 0;
        }

        foreach (var evt in events)
        {
            await EventLog.AppendAsync(connection, transaction, evt, null, cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        _known[(row.Storage, row.DiskPath)] = row;
        foreach (var evt in events)
        {
            GeoMetrics.RepositoryChangesAnnounced.WithLabels(evt.GetType().Name).Inc();
            GeoMetrics.EventsIngested.WithLabels(evt.GetType().Name).Inc();
            logger.LogInformation("Repository change detector: {Type} for project {ProjectId} ({Kind}) at {Path}, which no hook announced",
                evt.GetType().Name, row.ProjectId, kind, row.FullPath);
        }

        return events.Count;
    }

    /// <summary>
    /// True when the ref updates of the hooks recorded for this repository after <paramref name="since"/>, undone
    /// newest first from <paramref name="refs"/>, give back refs whose checksum is <paramref name="previous"/>:
    /// those hooks announced everything that changed.
    /// </summary>
    private static async Task<(bool Explained, long ThroughSeq)> ExplainedByHooksAsync(
        NpgsqlConnection connection, long projectId, RepositoryKind kind, long since, string previous, IReadOnlyDictionary<string, string> refs, CancellationToken cancellationToken)
    {
        var hooks = (await connection.QueryAsync<(long Id, string Body)>(new CommandDefinition(
            "SELECT id, body::text FROM event_log WHERE project_id = @projectId AND id > @since AND event_type = @type ORDER BY id DESC",
            new { projectId, since, type = nameof(RepositoryChanged) }, cancellationToken: cancellationToken))).ToList();
        var undone = new Dictionary<string, string>(refs, StringComparer.Ordinal);
        var any = false;
        var through = hooks.Count > 0 ? hooks[0].Id : 0;
        foreach (var (_, body) in hooks)
        {
            var hook = JsonSerializer.Deserialize<RepositoryChanged>(body);
            if (hook is null || hook.Kind != kind || hook.Trigger == Trigger)
            {
                continue;
            }

            any = true;
            foreach (var change in hook.Changes.Reverse())
            {
                var after = IsZero(change.After) ? null : change.After;
                if (undone.GetValueOrDefault(change.Ref) != after)
                {
                    return (false, 0); // the repository moved past what this hook said
                }

                if (IsZero(change.Before))
                {
                    undone.Remove(change.Ref);
                }
                else
                {
                    undone[change.Ref] = change.Before;
                }
            }
        }

        return (any && RefsChecksum.Of(undone) == previous, through);
    }

    private static bool IsZero(string sha) => sha.All(c => c == '0');

    /// <summary>The first pass's rows, in bulk: nothing is announced, so no event shares their transaction.</summary>
    private static async Task SaveAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, List<Row> rows, CancellationToken cancellationToken)
    {
        foreach (var chunk in rows.Chunk(5000))
        {
            await connection.ExecuteAsync(new CommandDefinition(
                """
                INSERT INTO repository_scan (storage, disk_path, kind, project_id, full_path, stat, checksum, head, read_seq)
                SELECT * FROM unnest(@storages, @paths, @kinds, @ids, @fullPaths, @stats, @checksums, @heads, @seqs)
                ON CONFLICT (storage, disk_path) DO NOTHING
                """,
                new
                {
                    storages = chunk.Select(r => r.Storage).ToArray(),
                    paths = chunk.Select(r => r.DiskPath).ToArray(),
                    kinds = chunk.Select(r => r.Kind).ToArray(),
                    ids = chunk.Select(r => r.ProjectId).ToArray(),
                    fullPaths = chunk.Select(r => r.FullPath).ToArray(),
                    stats = chunk.Select(r => r.Stat).ToArray(),
                    checksums = chunk.Select(r => r.Checksum).ToArray(),
                    heads = chunk.Select(r => r.Head).ToArray(),
                    seqs = chunk.Select(r => r.ReadSeq).ToArray(),
                }, transaction, cancellationToken: cancellationToken));
        }
    }

    private async Task SaveUnchangedAsync(NpgsqlConnection connection, List<Row> rows, CancellationToken cancellationToken)
    {
        if (rows.Count == 0)
        {
            return;
        }

        await connection.ExecuteAsync(new CommandDefinition(
            """
            UPDATE repository_scan r SET stat = u.stat, read_seq = u.read_seq
              FROM unnest(@storages, @paths, @stats, @seqs) AS u(storage, disk_path, stat, read_seq)
             WHERE r.storage = u.storage AND r.disk_path = u.disk_path
            """,
            new
            {
                storages = rows.Select(r => r.Storage).ToArray(),
                paths = rows.Select(r => r.DiskPath).ToArray(),
                stats = rows.Select(r => r.Stat).ToArray(),
                seqs = rows.Select(r => r.ReadSeq).ToArray(),
            }, cancellationToken: cancellationToken));
        foreach (var row in rows)
        {
            _known[(row.Storage, row.DiskPath)] = row;
        }
    }

    /// <summary>
    /// Repositories gone from a storage that was walked: their rows go. A project's repositories need no more (its
    /// project_destroy hook announces the destroy, through the secondaries' mass-destruction guard), but GitLab sends no
    /// hook when a snippet is deleted, and a group wiki's group_destroy may be lost: for those two kinds a
    /// <see cref="RepositoryDestroyed"/> is recorded, in the same transaction as the row's removal, once the repository
    /// has been missing on <see cref="MissingPassesBeforeDestroy"/> passes in a row. Never when the same repository is
    /// in another storage (a storage move), never while the kind's top folder (<c>@snippets</c>, <c>@groups</c>) is
    /// missing, and never from a storage that shows no repository at all where it had some (unmounted, not emptied).
    /// </summary>
    private async Task ForgetGoneAsync(NpgsqlConnection connection, HashSet<(string, string)> seen, HashSet<string> walked, CancellationToken cancellationToken)
    {
        var storages = _options.Value.Storages();
        foreach (var back in _missing.Keys.Where(seen.Contains).ToList())
        {
            _missing.Remove(back); // missing on one pass only: a move, or a slow listing
        }

        var gone = _known.Keys.Where(k => walked.Contains(k.Item1) && !seen.Contains(k)).ToList();
        foreach (var empty in walked.Where(storage => !seen.Any(k => k.Item1 == storage)).ToList())
        {
            var recorded = _known.Keys.Count(k => k.Item1 == empty);
            if (recorded > 0)
            {
                // A storage that shows no repository where it had some is more likely unmounted than emptied: forgetting
                // would announce every repository again once it is back, and any move made meanwhile as a mere sync.
                logger.LogWarning("Repository change detector: storage {Storage} shows no repository where {Count} were recorded; keeping them (unmounted?)", empty, recorded);
                gone.RemoveAll(k => k.Item1 == empty);
            }
        }

        var forget = new List<(string, string)>();
        var destroy = new List<Row>();
        foreach (var key in gone)
        {
            var row = _known[key];
            var kind = (RepositoryKind)row.Kind;
            if (kind is not (RepositoryKind.Snippet or RepositoryKind.GroupWiki)
                || storages.Any(s => s.Key != key.Item1 && seen.Contains((s.Key, key.Item2))))
            {
                forget.Add(key); // a project's repository (its hook says it was destroyed), or moved to another storage
                _missing.Remove(key);
                continue;
            }

            var top = key.Item2[..Math.Max(0, key.Item2.IndexOf('/'))];
            if (top.Length == 0 || !storages.TryGetValue(key.Item1, out var root) || !Directory.Exists(Path.Combine(root, top)))
            {
                Report(key.Item1, top, "is missing: its repositories are kept as they were (a mount failure must not destroy their mirrors)");
                continue;
            }

            var missing = _missing[key] = _missing.GetValueOrDefault(key) + 1;
            if (missing >= MissingPassesBeforeDestroy)
            {
                destroy.Add(row);
            }
        }

        if (forget.Count > 0)
        {
            await connection.ExecuteAsync(new CommandDefinition(
                "DELETE FROM repository_scan r USING unnest(@storages, @paths) AS g(storage, disk_path) WHERE r.storage = g.storage AND r.disk_path = g.disk_path",
                new { storages = forget.Select(g => g.Item1).ToArray(), paths = forget.Select(g => g.Item2).ToArray() }, cancellationToken: cancellationToken));
            foreach (var key in forget)
            {
                _known.Remove(key);
            }
        }

        var destroyed = 0;
        foreach (var row in destroy)
        {
            var key = (row.Storage, row.DiskPath);
            _missing.Remove(key);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            // Only the instance whose delete finds the row records the destroy.
            var deleted = await connection.ExecuteAsync(new CommandDefinition(
                "DELETE FROM repository_scan WHERE storage = @Storage AND disk_path = @DiskPath AND checksum = @Checksum",
                new { row.Storage, row.DiskPath, row.Checksum }, transaction, cancellationToken: cancellationToken));
            var evt = new RepositoryDestroyed
            {
                EventId = Guid.CreateVersion7(),
                Sequence = 0,
                OccurredAt = DateTimeOffset.UtcNow,
                OwnerId = row.ProjectId,
                Kind = (RepositoryKind)row.Kind,
                FullPath = row.FullPath,
                Trigger = Trigger,
            };
            if (deleted == 1)
            {
                await EventLog.AppendAsync(connection, transaction, evt, null, cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
            _known.Remove(key);
            if (deleted == 1)
            {
                destroyed++;
                GeoMetrics.RepositoryChangesAnnounced.WithLabels(nameof(RepositoryDestroyed)).Inc();
                GeoMetrics.EventsIngested.WithLabels(nameof(RepositoryDestroyed)).Inc();
                logger.LogWarning("Repository change detector: the {Kind} of {OwnerId} ({Path}) at {Storage}:{DiskPath} was missing on {Passes} passes in a row; its destroy is recorded",
                    RepositoryLayout.Label(evt.Kind), row.ProjectId, row.FullPath, row.Storage, row.DiskPath, MissingPassesBeforeDestroy);
            }
        }

        if (destroyed > 0)
        {
            signal.Notify();
        }
    }

    /// <summary>The held changes' repositories in one storage, unless their folder became a link meanwhile.</summary>
    private IEnumerable<Tracked> PendingIn(string storage, string root)
    {
        foreach (var (_, diskPath) in _pending.Keys.Where(k => k.Item1 == storage).ToList())
        {
            var dir = Path.Combine(root, diskPath);
            if (StoredRepository.Classify(diskPath) is { } repository && RepositoryProbe.Lstat(dir, "", out var stamp) && !stamp.IsLink && Directory.Exists(dir))
            {
                yield return new Tracked(storage, dir, repository);
            }
        }
    }

    /// <summary>
    /// Git repositories under <paramref name="root"/> that GitLab replicates; symbolic links are never followed. A
    /// folder whose lstat has not changed since it was last listed is not listed again (an entry created, removed or
    /// renamed in a folder touches it), and its repositories are the ones found then, with what is known of them.
    /// </summary>
    private IEnumerable<Tracked> Walk(string storage, string root)
    {
        var recent = RepositoryProbe.RecentNanoseconds();
        var pending = new Stack<string>([root]);
        while (pending.Count > 0)
        {
            var folder = pending.Pop();
            string[] folders;
            Tracked[] repositories;
            if (!RepositoryProbe.Lstat(folder, "", out var stamp) || stamp.IsLink)
            {
                _listings.Remove(folder);
                continue; // removed while we walked, or replaced by a link
            }

            if (_listings.TryGetValue(folder, out var listing) && listing.Stamp == stamp)
            {
                (folders, repositories) = (listing.Folders, listing.Repositories);
            }
            else
            {
                try
                {
                    // Links are skipped (never followed); '+gitaly' and '+deleted' folders are GitLab's own; hidden ones are not GitLab's.
                    var children = new DirectoryInfo(folder).EnumerateDirectories()
                        .Where(child => child.LinkTarget is null && !child.Name.StartsWith('.') && !child.Name.StartsWith('+'))
                        .Select(child => child.FullName)
                        .ToList();
                    folders = [.. children.Where(child => !child.EndsWith(".git", StringComparison.Ordinal))];
                    var known = listing.Repositories?.ToDictionary(t => t.Dir, StringComparer.Ordinal);
                    repositories = [.. children.Where(child => child.EndsWith(".git", StringComparison.Ordinal))
                        .Select(child => known?.GetValueOrDefault(child)
                            ?? (StoredRepository.Classify(Path.GetRelativePath(root, child).Replace(Path.DirectorySeparatorChar, '/')) is { } repository
                                ? new Tracked(storage, child, repository)
                                : null))
                        .OfType<Tracked>()];
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    _listings.Remove(folder);
                    continue; // removed while we walked, or not ours to read
                }

                // A folder touched moments ago may change again within its clock tick: listed again next pass (a
                // default stamp never matches), its repositories kept with what is known of them.
                _listings[folder] = (stamp.Newest < recent ? stamp : default, folders, repositories);
            }

            foreach (var child in folders)
            {
                pending.Push(child);
            }

            foreach (var repository in repositories)
            {
                yield return repository;
            }
        }
    }

    private void Report(string storage, string diskPath, string problem)
    {
        if (_reported.Count < MaxRemembered && _reported.Add($"{storage}\0{diskPath}\0{problem}"))
        {
            logger.LogWarning("Repository change detector: {Storage}:{DiskPath} {Problem} (reported once)", storage, diskPath, problem);
        }
    }

    /// <summary>Finds project ids and paths for one pass, reading the event log at most once.</summary>
    private sealed class Identifier(RepositoryScanner scanner, CancellationToken cancellationToken)
    {
        private Dictionary<long, string>? _latest;
        private Dictionary<string, long?>? _byPath;

        public async Task<(long? ProjectId, string? Path)> ProjectAsync(Seen seen)
        {
            var repository = seen.Repository;
            if (repository.LegacyPath is { } legacyPath)
            {
                if (seen.Old is { } old)
                {
                    return (old.ProjectId, legacyPath);
                }

                // Two projects naming the same path (one renamed away without its hook yet): not sure, so not known.
                _byPath ??= (await LatestAsync()).GroupBy(p => p.Value, StringComparer.Ordinal)
                    .ToDictionary(g => g.Key, g => g.Count() == 1 ? (long?)g.First().Key : null, StringComparer.Ordinal);
                return (_byPath.GetValueOrDefault(legacyPath), legacyPath);
            }

            var path = RepositoryLayout.PathFromConfig(seen.State.FullPath, repository.Kind);
            return (seen.Old?.ProjectId ?? await HashedIdAsync(repository.Hash!), path);
        }

        /// <summary>The path the project's events last named (after group renames); null when none did.</summary>
        public async Task<string?> AnnouncedPathAsync(long projectId) => (await LatestAsync()).GetValueOrDefault(projectId);

        private async Task<long?> HashedIdAsync(string hash)
        {
            await ResolveHashesAsync([hash]);
            return scanner._hashedIds[hash];
        }

        /// <summary>
        /// Finds the ids of hashes not looked up before: first among the projects the event log knows, then by hashing
        /// ids upward once for all of them (1,000,000 ids take about a third of a second).
        /// </summary>
        public async Task ResolveHashesAsync(IEnumerable<string> hashes)
        {
            var wanted = hashes.Where(h => !scanner._hashedIds.ContainsKey(h)).ToHashSet(StringComparer.Ordinal);
            if (wanted.Count == 0)
            {
                return;
            }

            var latest = await LatestAsync();
            foreach (var id in latest.Keys)
            {
                var name = ProjectInventory.HashedName(id);
                if (wanted.Remove(name))
                {
                    scanner._hashedIds[name] = id;
                }
            }

            var upTo = Math.Max(scanner._options.Value.HashedIdScanLimit, latest.Keys.DefaultIfEmpty().Max() * 2);
            for (var id = 1L; id <= upTo && wanted.Count > 0; id++)
            {
                var name = ProjectInventory.HashedName(id);
                if (wanted.Remove(name))
                {
                    scanner._hashedIds[name] = id;
                }
            }

            foreach (var hash in wanted)
            {
                scanner._hashedIds[hash] = null; // not within the limit: reported, and not looked for again until a restart
            }
        }

        private async Task<Dictionary<long, string>> LatestAsync()
        {
            if (_latest is null)
            {
                var (latest, renames) = await scanner._eventLog.ProjectHistoryAsync(cancellationToken);
                _latest = latest.Where(r => !r.Destroyed && r.Path is not null)
                    .ToDictionary(r => r.ProjectId, r => ProjectInventory.FollowGroupRenames(r.Path!, r.Id, renames));
            }

            return _latest;
        }
    }
}
