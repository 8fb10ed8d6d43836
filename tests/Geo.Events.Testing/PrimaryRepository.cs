using Geo.Events.Contracts;
using Geo.Events.Core.Repositories;

namespace Geo.Events.Testing;

/// <summary>
/// A bare repository laid out like GitLab's legacy storage (<c>&lt;root&gt;/group/project.git</c>) and a
/// working clone that pushes to it with the real git CLI, as a developer would.
/// </summary>
public sealed class PrimaryRepository
{
    public const string Zero = "0000000000000000000000000000000000000000";
    private int _commits;

    private PrimaryRepository(string storageRoot, string path, string bare, string work)
    {
        StorageRoot = storageRoot;
        PathWithNamespace = path;
        BarePath = bare;
        WorkPath = work;
    }

    public string StorageRoot { get; }
    public string PathWithNamespace { get; }
    public string BarePath { get; }
    public string WorkPath { get; }

    public static async Task<PrimaryRepository> CreateAsync(string storageRoot, string pathWithNamespace, string workRoot)
    {
        var bare = Path.Combine(storageRoot, pathWithNamespace + ".git");
        var work = Path.Combine(workRoot, pathWithNamespace.Replace('/', '_'));
        Directory.CreateDirectory(bare);
        Directory.CreateDirectory(work);
        await Shell.RunAsync("git", bare, "init", "-q", "--bare", "-b", "main");
        var repo = new PrimaryRepository(storageRoot, pathWithNamespace, bare, work);
        await repo.GitAsync("init", "-q", "-b", "main");
        await repo.GitAsync("remote", "add", "origin", bare);
        return repo;
    }

    /// <summary>
    /// A bare repository in GitLab's hashed storage: <c>@hashed/ab/cd/&lt;sha256(id)&gt;.git</c> (<c>.wiki.git</c> for a
    /// wiki), with <c>gitlab.fullpath</c> in its config as GitLab writes it. GitLab's git server reaches it by its
    /// path; here a symbolic link <c>&lt;root&gt;/&lt;path&gt;.git</c> stands in for that server (the secondaries fetch
    /// through it; the change detector never follows a link). A wiki's <see cref="PathWithNamespace"/> ends in <c>.wiki</c>.
    /// </summary>
    public static Task<PrimaryRepository> CreateHashedAsync(string storageRoot, long projectId, string projectPath, string workRoot, bool wiki = false) =>
        CreateStoredAsync(storageRoot, wiki ? RepositoryKind.Wiki : RepositoryKind.Project, projectId, wiki ? projectPath + ".wiki" : projectPath, workRoot);

    /// <summary>
    /// Any repository type in GitLab's hashed storage (<see cref="RepositoryLayout.HashedPath"/>: a project's, its
    /// wiki, its design repository, a snippet, a group's wiki) with <paramref name="fullPath"/> in its config as
    /// <c>gitlab.fullpath</c> (<c>group/project.design</c>, <c>snippets/5</c>, <c>group.wiki</c>), reachable through a link
    /// at <c>&lt;fullPath&gt;.git</c> like the rest (see <see cref="CreateHashedAsync"/>).
    /// </summary>
    public static async Task<PrimaryRepository> CreateStoredAsync(string storageRoot, RepositoryKind kind, long ownerId, string fullPath, string workRoot)
    {
        var bare = Path.Combine(storageRoot, RepositoryLayout.HashedPath(kind, ownerId));
        var work = Path.Combine(workRoot, fullPath.Replace('/', '_'));
        Directory.CreateDirectory(bare);
        Directory.CreateDirectory(work);
        await Shell.RunAsync("git", bare, "init", "-q", "--bare", "-b", "main");
        await Shell.RunAsync("git", bare, "config", "gitlab.fullpath", fullPath);
        var repo = new PrimaryRepository(storageRoot, fullPath, bare, work)
        {
            Hashed = true,
            MirrorName = kind == RepositoryKind.Snippet ? RepositoryLayout.MirrorName(kind, ownerId, fullPath)[..^".git".Length] : null,
        };
        repo.LinkPath();
        await repo.GitAsync("init", "-q", "-b", "main");
        await repo.GitAsync("remote", "add", "origin", bare);
        return repo;
    }

    /// <summary>Where a secondary keeps the mirror, without <c>.git</c>, when it is not <see cref="PathWithNamespace"/> (a snippet's <c>@snippets/&lt;id&gt;</c>).</summary>
    public string? MirrorName { get; private init; }

    /// <summary>True for a repository in hashed storage (<see cref="CreateHashedAsync"/>).</summary>
    public bool Hashed { get; private init; }

    private void LinkPath()
    {
        var link = Path.Combine(StorageRoot, PathWithNamespace + ".git");
        Directory.CreateDirectory(Path.GetDirectoryName(link)!);
        File.CreateSymbolicLink(link, BarePath);
    }

    /// <summary>
    /// A hashed repository's project moves to <paramref name="newPath"/> (a group transfer): GitLab rewrites
    /// <c>gitlab.fullpath</c> and nothing moves on disk; the stand-in server's link follows.
    /// </summary>
    public async Task<PrimaryRepository> TransferAsync(string newPath)
    {
        await Shell.RunAsync("git", BarePath, "config", "gitlab.fullpath", newPath);
        File.Delete(Path.Combine(StorageRoot, PathWithNamespace + ".git"));
        var moved = new PrimaryRepository(StorageRoot, newPath, BarePath, WorkPath) { _commits = _commits, Hashed = true, MirrorName = MirrorName };
        moved.LinkPath();
        return moved;
    }

    /// <summary>Moves the bare repository to <paramref name="newPath"/>, as GitLab's rename or transfer does; the working clone follows.</summary>
    public async Task<PrimaryRepository> MoveAsync(string newPath)
    {
        var bare = Path.Combine(StorageRoot, newPath + ".git");
        Directory.CreateDirectory(Path.GetDirectoryName(bare)!);
        Directory.Move(BarePath, bare);
        var moved = new PrimaryRepository(StorageRoot, newPath, bare, WorkPath) { _commits = _commits };
        await moved.GitAsync("remote", "set-url", "origin", bare);
        return moved;
    }

    public Task<string> GitAsync(params string[] args) =>
        Shell.RunAsync("git", WorkPath, ["-c", "user.name=Test", "-c", "user.email=test@example.com", .. args]);

    /// <summary>Commits a new file on the current branch; returns the new commit id.</summary>
    public async Task<string> CommitAsync(string message)
    {
        var file = Path.Combine(WorkPath, $"file{Interlocked.Increment(ref _commits)}.txt");
        await File.WriteAllTextAsync(file, message);
        await GitAsync("add", "-A");
        await GitAsync("commit", "-q", "-m", message);
        return (await GitAsync("rev-parse", "HEAD")).Trim();
    }

    /// <summary>Commits a new file on the current branch and pushes main, as a developer's <c>git push</c>; returns the new commit id.</summary>
    public async Task<string> CommitAndPushAsync(string message)
    {
        var sha = await CommitAsync(message);
        await GitAsync("push", "-q", "origin", "main");
        return sha;
    }

    /// <summary>
    /// Copies the bare repository file by file to <paramref name="barePath"/>: many repositories on the primary
    /// for the cost of one push, none of them announced.
    /// </summary>
    public void CopyBareTo(string barePath)
    {
        Directory.CreateDirectory(barePath);
        foreach (var folder in Directory.EnumerateDirectories(BarePath, "*", SearchOption.AllDirectories))
        {
            Directory.CreateDirectory(Path.Combine(barePath, Path.GetRelativePath(BarePath, folder)));
        }

        foreach (var file in Directory.EnumerateFiles(BarePath, "*", SearchOption.AllDirectories))
        {
            File.Copy(file, Path.Combine(barePath, Path.GetRelativePath(BarePath, file)));
        }
    }

    public async Task<string> ShaAsync(string rev) =>
        (await Shell.RunAsync("git", BarePath, "rev-parse", rev)).Trim();

    /// <summary>The bare repository's refs, name → object id.</summary>
    public Task<IReadOnlyDictionary<string, string>> RefsAsync() => ReadRefsAsync(BarePath);

    public static async Task<IReadOnlyDictionary<string, string>> ReadRefsAsync(string gitDir)
    {
        if (!Directory.Exists(gitDir))
        {
            return new Dictionary<string, string>();
        }

        var output = await Shell.RunAsync("git", gitDir, "for-each-ref", "--format=%(refname) %(objectname)");
        // A secondary's hidden attic of overwritten history (refs/geo-attic/) is not part of what clients see.
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(' '))
            .Where(parts => !parts[0].StartsWith("refs/geo-attic/", StringComparison.Ordinal))
            .ToDictionary(parts => parts[0], parts => parts[1]);
    }
}
