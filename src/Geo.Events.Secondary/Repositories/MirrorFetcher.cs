using Geo.Events.Contracts;
using Geo.Events.Core.Observability;
using Geo.Events.Core.Repositories;
using LibGit2Sharp;
using Microsoft.Extensions.Options;

namespace Geo.Events.Secondary.Repositories;

/// <summary>
/// The git transport: converges a mirror to the primary's current refs. A new mirror is built in a temp
/// folder and renamed into place; an existing one fetches <c>+refs/*:refs/*</c> with prune, so force pushes
/// and deletions converge too. Callers hold the repository's lock.
/// </summary>
public sealed class MirrorFetcher(MirrorLayout layout, IOptions<MirrorOptions> options, IOptions<SafetyNet.SafetyNetOptions> safetyNet, ILogger<MirrorFetcher> logger)
{
    public const string MirrorRefSpec = "+refs/*:refs/*";

    /// <summary>
    /// Where overwritten history is kept: <c>refs/geo-attic/&lt;unix ms&gt;/&lt;ref without refs/&gt;</c>. Hidden from
    /// clients (<c>uploadpack.hideRefs</c>, <c>transfer.hideRefs</c>), left out of the refs checksum and of the prune.
    /// </summary>
    public const string AtticPrefix = Core.Repositories.RefsChecksum.AtticPrefix;

    /// <summary>An old tip kept in the attic by a sync.</summary>
    public sealed record AtticRef(string Ref, string OriginalRef, string Sha, DateTimeOffset KeptAt);
    private const string RemoteName = "origin";

    private readonly MirrorOptions _options = options.Value;
    private readonly string _primaryGitBaseUrl = options.Value.PrimaryGitUrl.TrimEnd('/');

    /// <summary>
    /// Brings the mirror level with the primary's repository at <paramref name="pathWithNamespace"/>. Blocking:
    /// run it off the request thread. Returns false, and makes nothing, when the primary has no such repository
    /// (a project without a wiki or designs; a snippet or group wiki gone).
    /// </summary>
    /// <param name="kept">Receives the old tips this sync kept in the attic.</param>
    public bool Sync(long projectId, RepositoryKind kind, string pathWithNamespace, List<AtticRef>? kept = null)
    {
        var mirrorPath = layout.DataPath(projectId, kind);
        var remoteUrl = RemoteUrl(pathWithNamespace, kind);
        var refusal = new Refusal();
        try
        {
            if (kind != RepositoryKind.Project && !RemoteExists(remoteUrl, refusal))
            {
                return false;
            }

            if (Directory.Exists(mirrorPath))
            {
                Fetch(mirrorPath, remoteUrl, refusal, kept ?? []);
            }
            else
            {
                Clone(mirrorPath, remoteUrl, refusal);
            }

            return true;
        }
        catch (LibGit2SharpException e)
        {
            // libgit2 says "too many redirects or authentication replays" or "could not read refs from remote
            // repository": the dead letter and the registry say what was refused, and by whom, without the secret.
            // No inner exception: the dead letter shows the innermost one's message (MassTransit's fault headers).
            throw new LibGit2SharpException(Reason(e, refusal));
        }
    }

    /// <summary>Set by a credentials handler asked a second time on one connection: the server refused what it was given.</summary>
    private sealed class Refusal
    {
        public bool CredentialsRefused { get; set; }
    }

    /// <summary>
    /// Names the configured primary, not the project's URL: geo-admin groups dead letters by their message, and one
    /// cause (a changed password) must make one group however many projects it failed.
    /// </summary>
    private string Reason(LibGit2SharpException e, Refusal refusal)
    {
        var where = Redacted(_primaryGitBaseUrl);
        if (refusal.CredentialsRefused)
        {
            return $"the primary's git server refused the credentials of Secondary:GitUsername '{_options.GitUsername}' (HTTP 401) for {where}";
        }

        if (e.Message.Contains("authentication required", StringComparison.OrdinalIgnoreCase))
        {
            return $"the primary's git server demands credentials (HTTP 401) for {where} and Secondary:GitUsername is not set";
        }

        return where.StartsWith("ssh://", StringComparison.Ordinal)
            ? $"{e.Message} over ssh from {where}: the ssh client failed or was refused (its own message, e.g. 'Permission denied (publickey)', is in geo-secondary's log)"
            : $"{e.Message} ({where})";
    }

    /// <summary>The remote as it may be shown: a password written into the configured URL is left out.</summary>
    private static string Redacted(string remoteUrl) =>
        Uri.TryCreate(remoteUrl, UriKind.Absolute, out var uri) && uri.UserInfo.Contains(':', StringComparison.Ordinal)
            ? remoteUrl.Replace(uri.UserInfo + "@", uri.UserInfo.Split(':')[0] + "@", StringComparison.Ordinal)
            : remoteUrl;

    /// <summary>
    /// The primary's refs under <c>refs/</c> now (<c>git ls-remote</c>, through the same remote and credentials a
    /// fetch uses), by name; annotated tags by the tag object, as a mirror stores them.
    /// </summary>
    public IReadOnlyDictionary<string, string> PrimaryRefs(string pathWithNamespace)
    {
        var remoteUrl = RemoteUrl(pathWithNamespace, RepositoryKind.Project);
        var credentials = CredentialsProvider(new Refusal());
        var refs = credentials is null ? Repository.ListRemoteReferences(remoteUrl) : Repository.ListRemoteReferences(remoteUrl, credentials);
        return refs
            .Where(r => r.CanonicalName.StartsWith("refs/", StringComparison.Ordinal) && !r.CanonicalName.EndsWith("^{}", StringComparison.Ordinal))
            .ToDictionary(r => r.CanonicalName, r => r.TargetIdentifier, StringComparer.Ordinal);
    }

    /// <summary>A wiki exists on the primary only once a page was written: ask before cloning.</summary>
    private bool RemoteExists(string remoteUrl, Refusal refusal)
    {
        if (Path.IsPathFullyQualified(remoteUrl) || remoteUrl.StartsWith("file://", StringComparison.Ordinal))
        {
            var local = remoteUrl.StartsWith("file://", StringComparison.Ordinal) ? new Uri(remoteUrl).LocalPath : remoteUrl;
            return Directory.Exists(local);
        }

        try
        {
            var credentials = CredentialsProvider(refusal);
            _ = credentials is null ? Repository.ListRemoteReferences(remoteUrl) : Repository.ListRemoteReferences(remoteUrl, credentials);
            return true;
        }
        catch (LibGit2SharpException e) when (e.Message.Contains("404", StringComparison.Ordinal) || e.Message.Contains("not found", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }
    }

    private void Clone(string mirrorPath, string remoteUrl, Refusal refusal)
    {
        var temp = Path.Combine(layout.TempRoot, Guid.NewGuid().ToString("N") + ".git");
        try
        {
            Repository.Init(temp, isBare: true);
            using (var repo = new Repository(temp))
            {
                repo.Network.Remotes.Add(RemoteName, remoteUrl, MirrorRefSpec);
                repo.Config.Set($"remote.{RemoteName}.mirror", true);
                HideAttic(repo);
                FetchObserved("clone", repo, "geo-events: initial mirror", () => FetchOptions(refusal));
                UpdateHead(repo, RemoteRefs(repo, refusal));
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

    private void Fetch(string mirrorPath, string remoteUrl, Refusal refusal, List<AtticRef> kept)
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

        HideAttic(repo);
        var before = Tips(repo);
        FetchObserved("fetch", repo, "geo-events: sync", () => FetchOptions(refusal));
        var remoteRefs = RemoteRefs(repo, refusal);
        Prune(repo, remoteRefs);
        KeepOverwritten(repo, before, kept);
        ExpireAttic(repo);
        UpdateHead(repo, remoteRefs); // a default-branch change on the primary sends no push: every sync follows HEAD
    }

    /// <summary>Clients never see the attic: git upload-pack (daemon, http-backend, SSH) and receive-pack hide it.</summary>
    private static void HideAttic(Repository repo)
    {
        foreach (var key in new[] { "uploadpack.hideRefs", "transfer.hideRefs" })
        {
            if (repo.Config.Get<string>(key)?.Value != AtticPrefix.TrimEnd('/'))
            {
                repo.Config.Set(key, AtticPrefix.TrimEnd('/'));
            }
        }
    }

    /// <summary>The mirror's direct refs outside the attic, name → object id.</summary>
    private static Dictionary<string, string> Tips(Repository repo) => repo.Refs
        .Where(r => r is DirectReference && r.CanonicalName.StartsWith("refs/", StringComparison.Ordinal) && !r.CanonicalName.StartsWith(AtticPrefix, StringComparison.Ordinal))
        .ToDictionary(r => r.CanonicalName, r => r.TargetIdentifier, StringComparer.Ordinal);

    /// <summary>
    /// The prune, done here rather than by libgit2 (whose prune would take the attic too, the primary having no such
    /// refs): every ref under <c>refs/</c> outside the attic that the primary does not have now is deleted.
    /// </summary>
    private static void Prune(Repository repo, IReadOnlyList<Reference> remoteRefs)
    {
        var remote = remoteRefs.Select(r => r.CanonicalName).ToHashSet(StringComparer.Ordinal);
        var held = Core.Repositories.RefsChecksum.HeldRefs(repo);
        foreach (var name in held.Where(remote.Contains))
        {
            repo.Config.Unset($"geo.{name}.held"); // the primary has it now (pushed back by the admin): its ref, its rules
            held.Remove(name);
        }

        foreach (var local in repo.Refs.Where(r => r.CanonicalName.StartsWith("refs/", StringComparison.Ordinal)
                                                   && !r.CanonicalName.StartsWith(AtticPrefix, StringComparison.Ordinal)
                                                   && !held.Contains(r.CanonicalName)
                                                   && !remote.Contains(r.CanonicalName)).ToList())
        {
            repo.Refs.Remove(local);
        }
    }

    /// <summary>
    /// Keeps the old tip of every ref this sync deleted, or moved in a way that does not contain the old tip (a force
    /// push; a moved annotated tag), in the attic, so a <c>git gc</c> here cannot lose what the primary threw away.
    /// </summary>
    private void KeepOverwritten(Repository repo, Dictionary<string, string> before, List<AtticRef> kept)
    {
        if (safetyNet.Value.OverwriteRetention <= TimeSpan.Zero)
        {
            return;
        }

        var now = DateTimeOffset.UtcNow;
        foreach (var (name, oldTip) in before)
        {
            var newTip = repo.Refs[name]?.TargetIdentifier;
            if (newTip == oldTip || (newTip is not null && Contains(repo, newTip, oldTip)))
            {
                continue;
            }

            var atticRef = $"{AtticPrefix}{now.ToUnixTimeMilliseconds()}/{name["refs/".Length..]}";
            if (repo.Refs[atticRef] is null && repo.Lookup(oldTip) is not null)
            {
                repo.Refs.Add(atticRef, new ObjectId(oldTip), "geo-events: kept the overwritten tip");
                kept.Add(new AtticRef(atticRef, name, oldTip, now));
                logger.LogInformation("Kept the overwritten tip {Sha} of {Ref} as {AtticRef}", oldTip, name, atticRef);
            }
        }
    }

    /// <summary>True when <paramref name="newTip"/>'s history contains the commit <paramref name="oldTip"/> (a fast-forward).</summary>
    private static bool Contains(Repository repo, string newTip, string oldTip)
    {
        if (repo.Lookup(oldTip) is not Commit old)
        {
            return false; // an annotated tag (or another object) replaced: only the ref named it
        }

        Commit? peeled;
        try
        {
            peeled = repo.Lookup(newTip)?.Peel<Commit>();
        }
        catch (LibGit2SharpException)
        {
            return false; // a tag of a tree or a blob: not a commit's history
        }

        return peeled is not null && (peeled.Id == old.Id || repo.ObjectDatabase.FindMergeBase(old, peeled)?.Id == old.Id);
    }

    /// <summary>
    /// <c>geo-admin attic restore</c>: creates <paramref name="newRef"/> at the old tip kept as <paramref name="atticRef"/>
    /// and holds it (out of the prune and the checksum) until the primary has a ref of that name. Returns the tip.
    /// Callers hold the repository's lock.
    /// </summary>
    public string RestoreFromAttic(long projectId, RepositoryKind kind, string atticRef, string newRef)
    {
        using var repo = new Repository(layout.DataPath(projectId, kind));
        var kept = repo.Refs[atticRef] ?? throw new InvalidOperationException($"the mirror has no {atticRef} (expired, or never kept)");
        var existing = repo.Refs[newRef];
        if (existing is not null && existing.TargetIdentifier != kept.TargetIdentifier)
        {
            throw new InvalidOperationException($"{newRef} exists in the mirror at {existing.TargetIdentifier}: give another --to");
        }

        if (existing is null)
        {
            repo.Refs.Add(newRef, kept.TargetIdentifier, $"geo-events: restored from {atticRef}");
        }

        repo.Config.Set($"geo.{newRef}.held", true);
        logger.LogWarning("Restored {AtticRef} of project {ProjectId} as {Ref} at {Sha}; held until the primary has {Ref}", atticRef, projectId, newRef, kept.TargetIdentifier, newRef);
        return kept.TargetIdentifier;
    }

    /// <summary>Removes attic refs older than Secondary:OverwriteRetention (by the time in their name).</summary>
    public int ExpireAttic(Repository repo)
    {
        var cutoff = DateTimeOffset.UtcNow - safetyNet.Value.OverwriteRetention;
        var expired = 0;
        foreach (var reference in repo.Refs.Where(r => r.CanonicalName.StartsWith(AtticPrefix, StringComparison.Ordinal)).ToList())
        {
            var stamp = reference.CanonicalName[AtticPrefix.Length..].Split('/')[0];
            if (long.TryParse(stamp, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var ms)
                && DateTimeOffset.FromUnixTimeMilliseconds(ms) <= cutoff)
            {
                repo.Refs.Remove(reference);
                expired++;
            }
        }

        return expired;
    }

    /// <summary>
    /// True when the mirror already has refs whose checksum is <paramref name="checksum"/> and HEAD at
    /// <paramref name="head"/>: an event of the change detector that asks for nothing a fetch would bring.
    /// </summary>
    public bool AlreadyAt(long projectId, RepositoryKind kind, string checksum, string? head)
    {
        var mirrorPath = layout.DataPath(projectId, kind);
        if (!Directory.Exists(mirrorPath))
        {
            return false;
        }

        try
        {
            using var repo = new Repository(mirrorPath);
            var mirrorHead = repo.Refs.Head is SymbolicReference symbolic ? symbolic.TargetIdentifier : repo.Refs.Head?.TargetIdentifier;
            return mirrorHead == head && Core.Repositories.RefsChecksum.Of(Core.Repositories.RefsChecksum.Read(repo)) == checksum;
        }
        catch (LibGit2SharpException)
        {
            return false; // being created or removed: let the sync decide
        }
    }

    /// <summary>The primary's refs now (<c>git ls-remote</c> through the mirror's remote), HEAD included.</summary>
    private IReadOnlyList<Reference> RemoteRefs(Repository repo, Refusal refusal)
    {
        var remote = repo.Network.Remotes[RemoteName];
        var credentials = CredentialsProvider(refusal);
        return (credentials is null ? repo.Network.ListReferences(remote) : repo.Network.ListReferences(remote, credentials))
            .Where(r => !r.CanonicalName.EndsWith("^{}", StringComparison.Ordinal)).ToList();
    }

    /// <summary>Points HEAD where the primary's HEAD points, so clones from the mirror check out the default branch.</summary>
    private static void UpdateHead(Repository repo, IReadOnlyList<Reference> remoteRefs)
    {
        var remoteHead = remoteRefs.FirstOrDefault(r => r.CanonicalName == "HEAD");
        if (remoteHead?.TargetIdentifier is { } target && target.StartsWith("refs/", StringComparison.Ordinal) && repo.Refs[target] is not null
            && (repo.Refs.Head as SymbolicReference)?.TargetIdentifier != target)
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

    private FetchOptions FetchOptions(Refusal refusal) => new()
    {
        Prune = false, // done by Prune(), which spares the attic
        TagFetchMode = TagFetchMode.None, // the mirror refspec already brings refs/tags/*
        CredentialsProvider = CredentialsProvider(refusal),
    };

    /// <summary>
    /// One handler per connection. libgit2 asks again after every 401 and gives up only after many replays; asked
    /// a second time, the credentials were refused, so stop at once: repeated failed logins get an address banned
    /// by GitLab (Rack::Attack), and the refusal is reported as such.
    /// </summary>
    private LibGit2Sharp.Handlers.CredentialsHandler? CredentialsProvider(Refusal refusal)
    {
        if (_options.GitUsername is not { Length: > 0 } user)
        {
            return null;
        }

        var asked = 0;
        return (_, _, _) =>
        {
            if (++asked > 1)
            {
                refusal.CredentialsRefused = true;
                throw new LibGit2SharpException("the primary's git server refused the credentials");
            }

            return new UsernamePasswordCredentials { Username = user, Password = _options.GitPassword ?? "" };
        };
    }

    /// <summary>Built from configuration plus the validated path, never taken from a payload.</summary>
    private string RemoteUrl(string pathWithNamespace, RepositoryKind kind) => _primaryGitBaseUrl + "/" + pathWithNamespace + RepositoryLayout.RemoteSuffix(kind);
}
