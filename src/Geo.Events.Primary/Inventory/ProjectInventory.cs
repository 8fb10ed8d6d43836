using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Geo.Events.Contracts.Api;
using Geo.Events.Core.Outbox;
using Geo.Events.Core.Paths;
using Geo.Events.Core.Repositories;
using LibGit2Sharp;
using Microsoft.Extensions.Options;

namespace Geo.Events.Primary.Inventory;

/// <summary>
/// What the primary has, for backfill and verification: every project with its refs checksum, from what
/// geo-primary can see. Ids and paths come from the event log (the latest path of every project that had an
/// event, minus destroyed ones) and from GitLab's repository storage (Primary:RepositoryRoot): the legacy
/// layout <c>group/project.git</c>, and hashed storage <c>@hashed/ab/cd/&lt;sha256(id)&gt;.git</c>, whose git config
/// names the project's full path and whose folder name gives its id back.
/// </summary>
public sealed class ProjectInventory(IOptions<PrimaryOptions> options, EventLog eventLog, ILogger<ProjectInventory> logger)
{
    private static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(5);
    private readonly SemaphoreSlim _gate = new(1, 1);
    private Snapshot? _snapshot;
    // Hashed folder name → project id, for the ones resolved so far (null: not found within the scan limit).
    private readonly Dictionary<string, long?> _hashedIds = new(StringComparer.Ordinal);

    private sealed record Snapshot(DateTime TakenAt, long Sequence, IReadOnlyList<(long Id, string Path, string? GitDir)> Projects, int Unidentified);

    public async Task<InventoryPage> PageAsync(long after, int limit, IReadOnlyCollection<string> namespaces, CancellationToken cancellationToken)
    {
        var snapshot = await SnapshotAsync(cancellationToken);
        var selected = snapshot.Projects.Where(p => ProjectPath.IsIn(p.Path, namespaces)).ToList();
        var page = selected.Where(p => p.Id > after).Take(limit + 1).ToList();
        var more = page.Count > limit;
        var projects = page.Take(limit).Select(p => new InventoryProject { Id = p.Id, Path = p.Path, Checksum = Checksum(p.GitDir) }).ToList();
        return new InventoryPage { Projects = projects, Next = more ? projects[^1].Id : null, Sequence = snapshot.Sequence, Total = selected.Count, Unidentified = snapshot.Unidentified };
    }

    public async Task<(InventoryProject? Project, long Sequence)> GetAsync(long id, CancellationToken cancellationToken)
    {
        _snapshot = null; // a single look is a re-check: it must see the newest state
        var snapshot = await SnapshotAsync(cancellationToken);
        var found = snapshot.Projects.FirstOrDefault(p => p.Id == id);
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
                var gitDir = hashed.TryGetValue(HashedName(id), out var h) ? h.GitDir : legacy.GetValueOrDefault(path);
                projects[id] = (path, gitDir);
            }

            // Hashed repositories with no event yet: their folder name is sha256(id), so the id can be found.
            var unknownHashes = hashed.Keys.Except(known.Keys.Select(HashedName)).ToList();
            if (unknownHashes.Count > 0)
            {
                ResolveHashedIds(unknownHashes, Math.Max(options.Value.HashedIdScanLimit, known.Keys.DefaultIfEmpty().Max() * 2));
                foreach (var hash in unknownHashes)
                {
                    if (_hashedIds.GetValueOrDefault(hash) is { } id && !destroyed.Contains(id) && hashed[hash].FullPath is { } path && ProjectPath.Problem(path) is null)
                    {
                        projects[id] = (path, hashed[hash].GitDir);
                    }
                }
            }

            var identifiedPaths = projects.Values.Select(p => p.Path).ToHashSet(StringComparer.Ordinal);
            var unidentified = legacy.Keys.Count(path => !identifiedPaths.Contains(path));
            if (unidentified > 0)
            {
                logger.LogInformation("{Count} repositories in legacy storage have had no event yet, so their project id is unknown; they are left out of the inventory until one arrives", unidentified);
            }

            _snapshot = new Snapshot(DateTime.UtcNow, sequence, projects.OrderBy(p => p.Key).Select(p => (p.Key, p.Value.Path, p.Value.GitDir)).ToList(), unidentified);
            return _snapshot;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Legacy repositories by path; hashed ones by folder name (sha256 of the id), with the path their git config names.</summary>
    private (Dictionary<string, string> Legacy, Dictionary<string, (string GitDir, string? FullPath)> Hashed) ScanStorage()
    {
        var legacy = new Dictionary<string, string>(StringComparer.Ordinal);
        var hashed = new Dictionary<string, (string, string?)>(StringComparer.Ordinal);
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

                if (child.Name.EndsWith(".wiki.git", StringComparison.Ordinal) || child.Name.EndsWith(".design.git", StringComparison.Ordinal))
                {
                    continue;
                }

                var relative = Path.GetRelativePath(root, child.FullName).Replace(Path.DirectorySeparatorChar, '/');
                if (relative.StartsWith("@hashed/", StringComparison.Ordinal))
                {
                    hashed[child.Name[..^4]] = (child.FullName, FullPath(child.FullName));
                }
                else if (ProjectPath.Problem(relative[..^4]) is null)
                {
                    legacy[relative[..^4]] = child.FullName;
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

    public static string HashedName(long id) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(id.ToString(CultureInfo.InvariantCulture))));
}
