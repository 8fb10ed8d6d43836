using Geo.Events.Contracts;
using Geo.Events.Core.Paths;
using LibGit2Sharp;
using Microsoft.Extensions.Options;

namespace Geo.Events.Primary.Hooks;

/// <summary>
/// What GitLab's own repository storage (Primary:RepositoryRoot) says about a project a hook names. In hashed storage
/// the project's repository is <c>@hashed/ab/cd/&lt;sha256(id)&gt;.git</c>, and GitLab writes the project's current full
/// path into its git config (<c>gitlab.fullpath</c>) before it sends the rename's hook. A push hook whose path disagrees
/// with that (a push delivered after a later rename, a sample, a forged or mistaken hook) must not move the mirror to
/// the wrong path: the event is recorded with the path the storage gives. Where the storage cannot tell (no root
/// configured, legacy storage, another storage shard, no <c>gitlab.fullpath</c>), the hook's path is kept.
/// </summary>
public sealed class StoredPaths(IOptions<PrimaryOptions> options, ILogger<StoredPaths> logger)
{
    /// <summary>The project's full path as its hashed repository's config names it; null when the storage cannot tell.</summary>
    public string? PathOf(long projectId)
    {
        var root = options.Value.RepositoryRoot;
        if (string.IsNullOrWhiteSpace(root))
        {
            return null;
        }

        var hash = Inventory.ProjectInventory.HashedName(projectId);
        var gitDir = Path.Combine(root, "@hashed", hash[..2], hash[2..4], hash + ".git");
        if (!Directory.Exists(gitDir) || new DirectoryInfo(gitDir).LinkTarget is not null)
        {
            return null;
        }

        try
        {
            using var repo = new Repository(gitDir);
            var path = repo.Config.Get<string>("gitlab.fullpath")?.Value;
            return ProjectPath.Problem(path) is null ? path : null;
        }
        catch (Exception e) when (e is LibGit2SharpException or IOException)
        {
            logger.LogWarning("Could not read gitlab.fullpath of project {ProjectId}'s repository: {Error}", projectId, e.Message);
            return null;
        }
    }

    /// <summary>
    /// The event to record for <paramref name="evt"/>: a sync of a project's repository under the path the storage
    /// gives, when it gives another one than the hook. Returns the path it replaced, or null.
    /// </summary>
    public (IGeoEvent Event, string? Replaced) Reconcile(IGeoEvent evt)
    {
        if (evt is not RepositoryChanged { Kind: RepositoryKind.Project } change || PathOf(change.ProjectId) is not { } stored
            || stored == change.PathWithNamespace)
        {
            return (evt, null);
        }

        logger.LogWarning("A {Trigger} hook names project {ProjectId} {HookPath}, GitLab's storage says {StoredPath}: recorded under {StoredPath}",
            change.Trigger, change.ProjectId, change.PathWithNamespace, stored, stored);
        return (change with { PathWithNamespace = stored }, change.PathWithNamespace);
    }
}
