using Geo.Events.Contracts;
using Geo.Events.Contracts.Api;
using Geo.Events.Core.Outbox;
using Geo.Events.Core.Paths;
using Geo.Events.Core.Repositories;
using LibGit2Sharp;
using Microsoft.Extensions.Options;

namespace Geo.Events.Primary.Inventory;

/// <summary>
/// What the primary has, for backfill and verification: every repository of every kind with its refs checksum,
/// from what geo-primary can see. Project ids and paths come from the event log (the latest path of every project
/// that had an event, minus destroyed ones) and from GitLab's repository storage (Primary:RepositoryRoot): the legacy
/// layout <c>group/project.git</c>, and hashed storage (<see cref="RepositoryLayout"/>), whose git config names the
/// repository's full path and whose folder name gives its owner's id back. A project's wiki and design repository are
/// listed under the project's id and path when they exist on disk; snippets and group wikis, which only hashed storage
/// has, under their own id and the path their config names.
/// </summary>
public sealed class ProjectInventory(IOptions<PrimaryOptions> options, EventLog eventLog, ILogger<ProjectInventory> logger)
{
    private static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(5);
    private readonly SemaphoreSlim _gate = new(1, 1);
    private Snapshot? _snapshot;
    // Hashed folder name → project id, for the ones resolved so far (null: not found within the scan limit).
    private readonly Dictionary<string, long?> _hashedIds = new(StringComparer.Ordinal);

    private sealed record Snapshot(
        DateTime TakenAt, long Sequence, IReadOnlyDictionary<RepositoryKind, IReadOnlyList<(long Id, string Path, string? GitDir)>> Repositories, int Unidentified)
    {
        public IReadOnlyList<(long Id, string Path, string? GitDir)> Of(RepositoryKind kind) => Repositories.GetValueOrDefault(kind) ?? [];
    }

    public async Task<InventoryPage> PageAsync(long after, int limit, IReadOnlyCollection<string> namespaces, CancellationToken cancellationToken, RepositoryKind kind = RepositoryKind.Project)
    {
        var snapshot = await SnapshotAsync(cancellationToken);
        var selected = snapshot.Of(kind).Where(p => RepositoryLayout.IsSelected(kind, p.Path, namespaces)).ToList();
        var page = selected.Where(p => p.Id > after).Take(limit + 1).ToList();
        var more = page.Count > limit;
        var projects = page.Take(limit).Select(p => new InventoryProject { Id = p.Id, Path = p.Path, Checksum = Checksum(p.GitDir) }).ToList();
        return new InventoryPage { Projects = projects, Next = more ? projects[^1].Id : null, Sequence = snapshot.Sequence, Total = selected.Count, Unidentified = snapshot.Unidentified };
    }

    public async Task<(InventoryProject? Project, long Sequence)> GetAsync(long id, CancellationToken cancellationToken, RepositoryKind kind = RepositoryKind.Project)
    {
        _snapshot = null; // a single look is a re-check: it must see the newest state
        var snapshot = await SnapshotAsync(cancellationToken);
        var found = snapshot.Of(kind).FirstOrDefault(p => p.Id == id);
        return (found.Path is null ? null : new InventoryProject { Id = found.Id, Path = found.Path, Checksum = Checksum(found.GitDir) }, snapshot.Sequence);
    }

    /// <summary>The path after every group rename recorded later than the event that named it.</summary>
    public static string FollowGroupRenames(string path, long namedAt, IReadOnlyList<(long Id, string Old, string New)> renames)
    {
        foreach (var (id, old, @new) in renames)
        {
            if (id > namedAt && path.StartsWith(old + "/", StringComparison.Ordinal))
            {
                path = @new + path[old.Length..];
            }
        }

        return path;
    }

    private static string? Checksum(string? gitDir)
    {
        if (gitDir is null)
        {
            return null;
        }

        try
        {
            return RefsChecksum.Compute(gitDir);
        }
        catch (Exception e) when (e is LibGit2SharpException or IOException or RepositoryNotFoundException)
        {
            return null; // being created or removed right now: the next look will tell
        }
    }

    private async Task<Snapshot> SnapshotAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_snapshot is { } fresh && DateTime.UtcNow - fresh.TakenAt < CacheFor)
            {
                return fresh;
            }

            var sequence = await eventLog.LatestSequenceAsync(cancellationToken);
            // A group rename moves every project below the group without an event of the project's own.
            var (latest, groupRenames) = await eventLog.ProjectHistoryAsync(cancellationToken);
            var known = latest.Where(r => !r.Destroyed && r.Path is not null)
                .ToDictionary(r => r.ProjectId, r => FollowGroupRenames(r.Path!, r.Id, groupRenames));
            var destroyed = latest.Where(r => r.Destroyed).Select(r => r.ProjectId).ToHashSet();

            var (legacy, hashed) = ScanStorage();
            var projects = new Dictionary<long, (string Path, string? GitDir)>();
            foreach (var (id, path) in known)
            {
                var gitDir = hashed.TryGetValue((RepositoryKind.Project, HashedName(id)), out var h) ? h.GitDir : legacy.GetValueOrDefault((RepositoryKind.Project, path));
                projects[id] = (path, gitDir);
            }

            // Hashed repositories with no event yet: their folder name is sha256(id), so the id can be found. (A snippet's
            // or a group's id may equal a known project's: the hash is the same.)
            foreach (var id in known.Keys)
            {
                _hashedIds[HashedName(id)] = id;
            }

            var unknownHashes = hashed.Keys.Where(k => k.Kind is RepositoryKind.Project or RepositoryKind.Snippet or RepositoryKind.GroupWiki)
                .Select(k => k.Hash).Where(h => !_hashedIds.ContainsKey(h)).Distinct().ToList();
            if (unknownHashes.Count > 0)
            {
                ResolveHashedIds(unknownHashes, Math.Max(options.Value.HashedIdScanLimit, known.Keys.DefaultIfEmpty().Max() * 2));
            }

            foreach (var ((kind, hash), (gitDir, fullPath)) in hashed.Where(h => h.Key.Kind == RepositoryKind.Project))
            {
                if (_hashedIds.GetValueOrDefault(hash) is { } id && !projects.ContainsKey(id) && !destroyed.Contains(id)
                    && RepositoryLayout.PathFromConfig(fullPath, kind) is { } path)
                {
                    projects[id] = (path, gitDir);
                }
            }

            var repositories = new Dictionary<RepositoryKind, IReadOnlyList<(long Id, string Path, string? GitDir)>>
            {
                [RepositoryKind.Project] = projects.OrderBy(p => p.Key).Select(p => (p.Key, p.Value.Path, p.Value.GitDir)).ToList(),
            };

            // A project's wiki and design repository: under the project's id and path, when the storage has them.
            foreach (var kind in new[] { RepositoryKind.Wiki, RepositoryKind.Design })
            {
                repositories[kind] = projects.OrderBy(p => p.Key)
                    .Select(p => (p.Key, p.Value.Path, GitDir: hashed.TryGetValue((kind, HashedName(p.Key)), out var h) ? h.GitDir : legacy.GetValueOrDefault((kind, p.Value.Path))))
                    .Where(p => p.GitDir is not null).ToList();
            }

            // Snippets and group wikis: under their own id and the path their config names.
            foreach (var kind in new[] { RepositoryKind.Snippet, RepositoryKind.GroupWiki })
            {
                repositories[kind] = hashed.Where(h => h.Key.Kind == kind)
                    .Select(h => (Id: _hashedIds.GetValueOrDefault(h.Key.Hash), Path: RepositoryLayout.PathFromConfig(h.Value.FullPath, kind), h.Value.GitDir))
                    .Where(r => r.Id is not null && r.Path is not null)
                    .Select(r => (r.Id!.Value, r.Path!, (string?)r.GitDir)).OrderBy(r => r.Item1).ToList();
            }

            var identifiedPaths = projects.Values.Select(p => p.Path).ToHashSet(StringComparer.Ordinal);
            var unidentified = legacy.Keys.Count(k => k.Kind == RepositoryKind.Project && !identifiedPaths.Contains(k.Path));
            if (unidentified > 0)
            {
                logger.LogInformation("{Count} repositories in legacy storage have had no event yet, so their project id is unknown; they are left out of the inventory until one arrives", unidentified);
            }

            _snapshot = new Snapshot(DateTime.UtcNow, sequence, repositories, unidentified);
            return _snapshot;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Legacy repositories by kind and path; hashed ones by kind and folder name (sha256 of the owner's id), with the path their git config names.</summary>
    private (Dictionary<(RepositoryKind Kind, string Path), string> Legacy, Dictionary<(RepositoryKind Kind, string Hash), (string GitDir, string? FullPath)> Hashed) ScanStorage()
    {
        var legacy = new Dictionary<(RepositoryKind, string), string>();
        var hashed = new Dictionary<(RepositoryKind, string), (string, string?)>();
        var root = options.Value.RepositoryRoot;
        if (string.IsNullOrWhiteSpace(root) || !Directory.Exists(root))
        {
            return (legacy, hashed);
        }

        root = Path.GetFullPath(root);
        var pending = new Stack<string>([root]);
        while (pending.Count > 0)
        {
            var folder = pending.Pop();
            foreach (var child in new DirectoryInfo(folder).EnumerateDirectories())
            {
                if (child.LinkTarget is not null)
                {
                    continue; // never follow a link out of the storage
                }

                if (!child.Name.EndsWith(".git", StringComparison.Ordinal))
                {
                    pending.Push(child.FullName);
                    continue;
                }

                var relative = Path.GetRelativePath(root, child.FullName).Replace(Path.DirectorySeparatorChar, '/');
                switch (RepositoryLayout.Classify(relative))
                {
                    case ({ } kind, { } hash, _):
                        hashed[(kind, hash)] = (child.FullName, FullPath(child.FullName));
                        break;
                    case ({ } kind, null, { } path):
                        legacy[(kind, path)] = child.FullName;
                        break;
                }
            }
        }

        return (legacy, hashed);
    }

    /// <summary>GitLab writes <c>gitlab.fullpath</c> into every hashed repository's config.</summary>
    private static string? FullPath(string gitDir)
    {
        try
        {
            using var repo = new Repository(gitDir);
            return repo.Config.Get<string>("gitlab.fullpath")?.Value;
        }
        catch (Exception e) when (e is LibGit2SharpException or IOException)
        {
            return null;
        }
    }

    /// <summary>Finds the ids of <paramref name="hashes"/> not looked up before by hashing ids 1…<paramref name="upTo"/> once.</summary>
    private void ResolveHashedIds(IEnumerable<string> hashes, long upTo)
    {
        var wanted = hashes.Where(h => !_hashedIds.ContainsKey(h)).ToHashSet(StringComparer.Ordinal);
        for (var id = 1L; id <= upTo && wanted.Count > 0; id++)
        {
            var name = HashedName(id);
            if (wanted.Remove(name))
            {
                _hashedIds[name] = id;
            }
        }

        foreach (var hash in wanted)
        {
            _hashedIds[hash] = null;
        }
    }

    public static string HashedName(long id) => RepositoryLayout.HashedName(id);
}
