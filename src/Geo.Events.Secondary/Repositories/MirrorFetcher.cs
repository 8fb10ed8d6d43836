using Geo.Events.Contracts;
using Geo.Events.Core.Observability;
using LibGit2Sharp;
using Microsoft.Extensions.Options;

namespace Geo.Events.Secondary.Repositories;

/// <summary>
/// The git transport: converges a mirror to the primary's current refs. A new mirror is built in a temp
/// folder and renamed into place; an existing one fetches <c>+refs/*:refs/*</c> with prune, so force pushes
/// and deletions converge too. Callers hold the repository's lock.
/// </summary>
public sealed class MirrorFetcher(MirrorLayout layout, IOptions<MirrorOptions> options, ILogger<MirrorFetcher> logger)
{
    public const string MirrorRefSpec = "+refs/*:refs/*";
    private const string RemoteName = "origin";

    private readonly MirrorOptions _options = options.Value;
    private readonly string _primaryGitBaseUrl = options.Value.PrimaryGitUrl.TrimEnd('/');

    /// <summary>
    /// Brings the mirror level with the primary's repository at <paramref name="pathWithNamespace"/>. Blocking:
    /// run it off the request thread. Returns false, and makes nothing, when the primary has no such wiki.
    /// </summary>
    public bool Sync(long projectId, RepositoryKind kind, string pathWithNamespace)
    {
        var mirrorPath = layout.DataPath(projectId, kind);
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

    /// <summary>
    /// The primary's refs under <c>refs/</c> now (<c>git ls-remote</c>, through the same remote and credentials a
    /// fetch uses), by name; annotated tags by the tag object, as a mirror stores them.
    /// </summary>
    public IReadOnlyDictionary<string, string> PrimaryRefs(string pathWithNamespace)
    {
        var remoteUrl = RemoteUrl(pathWithNamespace, RepositoryKind.Project);
        var credentials = CredentialsProvider();
        var refs = credentials is null ? Repository.ListRemoteReferences(remoteUrl) : Repository.ListRemoteReferences(remoteUrl, credentials);
        return refs
            .Where(r => r.CanonicalName.StartsWith("refs/", StringComparison.Ordinal) && !r.CanonicalName.EndsWith("^{}", StringComparison.Ordinal))
            .ToDictionary(r => r.CanonicalName, r => r.TargetIdentifier, StringComparer.Ordinal);
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
        var temp = Path.Combine(layout.TempRoot, Guid.NewGuid().ToString("N") + ".git");
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
            logger.LogInformation("Created mirror {Mirror}", mirrorPath);
        }
        finally
        {
            if (Directory.Exists(temp))
            {
                MirrorRemover.DeleteTree(temp);
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

    /// <summary>Built from configuration plus the validated path, never taken from a payload.</summary>
    private string RemoteUrl(string pathWithNamespace, RepositoryKind kind) => _primaryGitBaseUrl + "/" + pathWithNamespace + MirrorLayout.Suffix(kind);
}
