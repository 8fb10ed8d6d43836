using Geo.Events.Contracts;
using Geo.Events.Core.Observability;
using Geo.Events.Core.Paths;
using Geo.Events.Core.Repositories;
using Geo.Events.Core.Storage;
using LibGit2Sharp;
using Microsoft.Extensions.Options;

namespace Geo.Events.Secondary.Repositories;

/// <summary>
/// The bare mirrors on disk. A sync converges a mirror to the primary's current refs: a new mirror is
/// built in a temp folder and renamed into place; an existing one fetches <c>+refs/*:refs/*</c> with prune,
/// so force pushes and deletions converge too. Callers hold the repository's lock.
/// </summary>
/// <remarks>
/// Layout: like GitLab's hashed storage, a mirror lives at <c>@hashed/ab/cd/&lt;sha256(project id)&gt;.git</c>,
/// where no rename ever touches it; the readable name <c>&lt;path_with_namespace&gt;.git</c> is a relative
/// symbolic link to it, replaced atomically (rename(2) of a new link over the old one). So a rename or
/// transfer is one link swap, a fetch running at that moment is undisturbed, two projects trading paths
/// cannot collide on disk, and git clients and servers pointed at the root see the familiar paths.
/// </remarks>
public sealed class MirrorStore
{
    public const string MirrorRefSpec = "+refs/*:refs/*";
    private const string RemoteName = "origin";
    private static readonly TimeSpan StaleTempAge = TimeSpan.FromHours(1);

    private readonly SecondaryOptions _options;
    private readonly string _root;
    private readonly string _tempRoot;
    private readonly ILogger<MirrorStore> _logger;

    public MirrorStore(IOptions<SecondaryOptions> options, ILogger<MirrorStore> logger)
    {
        _options = options.Value;
        _logger = logger;
        if (string.IsNullOrWhiteSpace(_options.MirrorRoot))
        {
            throw new InvalidOperationException("Secondary:MirrorRoot is not set (GEO_Secondary__MirrorRoot)");
        }

        _ = BaseUrl(_options.PrimaryGitUrl);
        GitNetworkTimeouts.Apply(_options.GitConnectTimeout, _options.GitTimeout);
        _root = Path.GetFullPath(_options.MirrorRoot);
        _tempRoot = Path.Combine(_root, ".tmp");
        Directory.CreateDirectory(_tempRoot);
        RemoveStaleTemps();
    }

    public const string HashedFolder = "@hashed";

    /// <summary><c>.git</c> for a project's repository, <c>.wiki.git</c> for its wiki, as GitLab names them.</summary>
    public static string Suffix(RepositoryKind kind) => kind == RepositoryKind.Wiki ? ".wiki.git" : ".git";

    /// <summary>Where the mirror is stored: <c>@hashed/ab/cd/&lt;sha256(id)&gt;.git</c> (or <c>.wiki.git</c>) under the root.</summary>
    public string DataPath(long projectId, RepositoryKind kind = RepositoryKind.Project)
    {
        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(
            System.Text.Encoding.ASCII.GetBytes(projectId.ToString(System.Globalization.CultureInfo.InvariantCulture))));
        return Path.Combine(_root, HashedFolder, hash[..2], hash[2..4], hash + Suffix(kind));
    }

    /// <summary>The readable link <c>&lt;path&gt;.git</c> (or <c>.wiki.git</c>); its parent folders must be real folders under the root.</summary>
    public string LinkPath(string pathWithNamespace, RepositoryKind kind = RepositoryKind.Project)
    {
        var parent = Path.GetDirectoryName(pathWithNamespace.Replace('/', Path.DirectorySeparatorChar))!;
        ProjectPath.ResolveUnder(_root, pathWithNamespace, Suffix(kind), allowFinalLink: true);
        return Path.Combine(_root, parent, Path.GetFileName(pathWithNamespace) + Suffix(kind));
    }

    public bool Exists(long projectId, RepositoryKind kind = RepositoryKind.Project) => Directory.Exists(DataPath(projectId, kind));

    /// <summary>
    /// Brings the mirror level with the primary's repository at <paramref name="pathWithNamespace"/>. Blocking:
    /// run it off the request thread. Returns false, and makes nothing, when the primary has no such wiki.
    /// </summary>
    public bool Sync(long projectId, RepositoryKind kind, string pathWithNamespace)
    {
        var mirrorPath = DataPath(projectId, kind);
        var remoteUrl = RemoteUrl(pathWithNamespace, kind);
        if (kind == RepositoryKind.Wiki && !RemoteExists(remoteUrl))
        {
            return false;
        }

        if (Directory.Exists(mirrorPath))
        {
            Fetch(mirrorPath, remoteUrl);
        }
        else
        {
            Clone(mirrorPath, remoteUrl);
        }

        return true;
    }

    /// <summary>A wiki exists on the primary only once a page was written: ask before cloning.</summary>
    private bool RemoteExists(string remoteUrl)
    {
        if (Path.IsPathFullyQualified(remoteUrl) || remoteUrl.StartsWith("file://", StringComparison.Ordinal))
        {
            var local = remoteUrl.StartsWith("file://", StringComparison.Ordinal) ? new Uri(remoteUrl).LocalPath : remoteUrl;
            return Directory.Exists(local);
        }

        try
        {
            var credentials = CredentialsProvider();
            _ = credentials is null ? Repository.ListRemoteReferences(remoteUrl) : Repository.ListRemoteReferences(remoteUrl, credentials);
            return true;
        }
        catch (LibGit2SharpException e) when (e.Message.Contains("404", StringComparison.Ordinal) || e.Message.Contains("not found", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }
    }

    private void Clone(string mirrorPath, string remoteUrl)
    {
        var temp = Path.Combine(_tempRoot, Guid.NewGuid().ToString("N") + ".git");
        try
        {
            Repository.Init(temp, isBare: true);
            using (var repo = new Repository(temp))
            {
                repo.Network.Remotes.Add(RemoteName, remoteUrl, MirrorRefSpec);
                repo.Config.Set($"remote.{RemoteName}.mirror", true);
                FetchObserved("clone", repo, "geo-events: initial mirror", FetchOptions);
                UpdateHead(repo);
            }

            Directory.CreateDirectory(Path.GetDirectoryName(mirrorPath)!);
            // Same file system, so the rename is atomic: readers see no mirror or a complete one.
            Directory.Move(temp, mirrorPath);
            _logger.LogInformation("Created mirror {Mirror}", mirrorPath);
        }
        finally
        {
            if (Directory.Exists(temp))
            {
                DeleteTree(temp);
            }
        }
    }

    private void Fetch(string mirrorPath, string remoteUrl)
    {
        using var repo = new Repository(mirrorPath);
        var remote = repo.Network.Remotes[RemoteName];
        if (remote is null)
        {
            repo.Network.Remotes.Add(RemoteName, remoteUrl, MirrorRefSpec);
        }
        else if (remote.Url != remoteUrl)
        {
            // The configured primary moved: follow the configuration, never a URL from a payload.
            repo.Network.Remotes.Update(RemoteName, r => r.Url = remoteUrl);
        }

        FetchObserved("fetch", repo, "geo-events: sync", FetchOptions);
        if (repo.Head.Tip is null)
        {
            UpdateHead(repo); // the default branch was deleted or renamed on the primary
        }
    }

    /// <summary>Points HEAD where the primary's HEAD points, so clones from the mirror check out the default branch.</summary>
    private void UpdateHead(Repository repo)
    {
        var remote = repo.Network.Remotes[RemoteName];
        var credentials = CredentialsProvider();
        var remoteRefs = credentials is null ? repo.Network.ListReferences(remote) : repo.Network.ListReferences(remote, credentials);
        var remoteHead = remoteRefs.FirstOrDefault(r => r.CanonicalName == "HEAD");
        if (remoteHead?.TargetIdentifier is { } target && target.StartsWith("refs/", StringComparison.Ordinal) && repo.Refs[target] is not null)
        {
            repo.Refs.UpdateTarget("HEAD", target);
        }
    }

    private static void FetchObserved(string kind, Repository repo, string logMessage, Func<FetchOptions> options)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        long received = 0;
        var fetchOptions = options();
        fetchOptions.OnTransferProgress = progress =>
        {
            received = progress.ReceivedBytes;
            return true;
        };
        Commands.Fetch(repo, RemoteName, [MirrorRefSpec], fetchOptions, logMessage);
        GeoMetrics.FetchBytes.Inc(received);
        GeoMetrics.FetchDuration.WithLabels(kind).Observe(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds);
    }

    private FetchOptions FetchOptions() => new()
    {
        Prune = true,
        TagFetchMode = TagFetchMode.None, // the mirror refspec already brings refs/tags/*
        CredentialsProvider = CredentialsProvider(),
    };

    private LibGit2Sharp.Handlers.CredentialsHandler? CredentialsProvider() =>
        _options.GitUsername is { Length: > 0 } user
            ? (_, _, _) => new UsernamePasswordCredentials { Username = user, Password = _options.GitPassword ?? "" }
            : null;

    private string RemoteUrl(string pathWithNamespace, RepositoryKind kind) => BaseUrl(_options.PrimaryGitUrl) + "/" + pathWithNamespace + Suffix(kind);

    /// <summary>Only plain transports: no <c>ext::</c>, no options smuggled in as a URL.</summary>
    private static string BaseUrl(string configured)
    {
        if (string.IsNullOrWhiteSpace(configured))
        {
            throw new InvalidOperationException("Secondary:PrimaryGitUrl is not set (GEO_Secondary__PrimaryGitUrl)");
        }

        var trimmed = configured.TrimEnd('/');
        if (Path.IsPathFullyQualified(trimmed))
        {
            return trimmed;
        }

        if (Uri.TryCreate(trimmed, UriKind.Absolute, out var uri) && uri.Scheme is "file" or "http" or "https" or "ssh")
        {
            return trimmed;
        }

        throw new InvalidOperationException($"Secondary:PrimaryGitUrl must be an absolute folder or a file://, http(s):// or ssh:// URL, not '{configured}'");
    }

    /// <summary>
    /// Points <c>&lt;path&gt;.git</c> at the project's mirror and removes the link at <paramref name="previousPath"/>
    /// if it still points there. Idempotent; the new link appears atomically.
    /// </summary>
    public void Link(long projectId, RepositoryKind kind, string path, string? previousPath)
    {
        var link = LinkPath(path, kind);
        var target = Path.GetRelativePath(Path.GetDirectoryName(link)!, DataPath(projectId, kind));
        var existing = new FileInfo(link);
        if (existing.LinkTarget != target)
        {
            if (Directory.Exists(link) && new DirectoryInfo(link).LinkTarget is null)
            {
                throw new IOException($"{link} is a folder, not a link this secondary made; move it away to let project {projectId} take the path");
            }

            Directory.CreateDirectory(Path.GetDirectoryName(link)!);
            var temp = Path.Combine(Path.GetDirectoryName(link)!, $".{Path.GetFileName(link)}.{Guid.NewGuid():N}.tmp");
            File.CreateSymbolicLink(temp, target);
            Posix.Rename(temp, link); // readers see the old link or the new one, never none
            Posix.SyncDirectory(Path.GetDirectoryName(link)!);
            _logger.LogInformation("Linked {Link} to project {ProjectId}", link, projectId);
        }

        if (previousPath is not null && previousPath != path)
        {
            Unlink(projectId, kind, previousPath);
        }
    }

    /// <summary>Removes the link at <paramref name="path"/> if it points at this project's mirror, then empty parent folders.</summary>
    public void Unlink(long projectId, RepositoryKind kind, string path)
    {
        var link = LinkPath(path, kind);
        var info = new FileInfo(link);
        if (info.LinkTarget is { } target && Path.GetFullPath(target, Path.GetDirectoryName(link)!) == DataPath(projectId, kind))
        {
            info.Delete();
            RemoveEmptyParents(Path.GetDirectoryName(link)!);
        }
    }

    /// <summary>Removes the project's mirror: first moved out of sight (atomic), then deleted.</summary>
    public void Delete(long projectId, RepositoryKind kind)
    {
        var data = DataPath(projectId, kind);
        if (!Directory.Exists(data))
        {
            return;
        }

        var doomed = Path.Combine(_tempRoot, "deleted-" + Guid.NewGuid().ToString("N") + ".git");
        Directory.Move(data, doomed);
        DeleteTree(doomed);
        _logger.LogInformation("Deleted the {Kind} mirror of project {ProjectId}", kind, projectId);
    }

    private void RemoveEmptyParents(string folder)
    {
        try
        {
            while (folder.Length > _root.Length && folder.StartsWith(_root, StringComparison.Ordinal)
                   && Directory.Exists(folder) && !Directory.EnumerateFileSystemEntries(folder).Any())
            {
                Directory.Delete(folder);
                folder = Path.GetDirectoryName(folder)!;
            }
        }
        catch (IOException)
        {
            // Another project's link appeared in the folder meanwhile: it stays.
        }
    }

    private void RemoveStaleTemps()
    {
        foreach (var entry in new DirectoryInfo(_tempRoot).EnumerateDirectories())
        {
            if (DateTime.UtcNow - entry.LastWriteTimeUtc > StaleTempAge)
            {
                _logger.LogInformation("Removing abandoned temp mirror {Path}", entry.FullName);
                DeleteTree(entry.FullName);
            }
        }
    }

    private static void DeleteTree(string path)
    {
        // libgit2 writes pack files read-only; clear the bit so the delete succeeds.
        foreach (var file in Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories))
        {
            File.SetAttributes(file, FileAttributes.Normal);
        }

        Directory.Delete(path, recursive: true);
    }
}
