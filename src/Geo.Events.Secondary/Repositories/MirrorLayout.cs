using Geo.Events.Contracts;
using Geo.Events.Core.Paths;
using Geo.Events.Core.Storage;
using Microsoft.Extensions.Options;

namespace Geo.Events.Secondary.Repositories;

/// <summary>
/// Where the bare mirrors live under Secondary:MirrorRoot, and the readable links that reach them. Callers
/// hold the repository's lock.
/// </summary>
/// <remarks>
/// Layout: like GitLab's hashed storage, a mirror lives at <c>@hashed/ab/cd/&lt;sha256(project id)&gt;.git</c>,
/// where no rename ever touches it; the readable name <c>&lt;path_with_namespace&gt;.git</c> is a relative
/// symbolic link to it, replaced atomically (rename(2) of a new link over the old one). So a rename or
/// transfer is one link swap, a fetch running at that moment is undisturbed, two projects trading paths
/// cannot collide on disk, and git clients and servers pointed at the root see the familiar paths.
/// </remarks>
public sealed class MirrorLayout(IOptions<MirrorOptions> options, ILogger<MirrorLayout> logger)
{
    public const string HashedFolder = "@hashed";

    private readonly string _root = Path.GetFullPath(options.Value.MirrorRoot);

    /// <summary>Secondary:MirrorRoot, absolute.</summary>
    public string Root => _root;

    /// <summary>
    /// Where clones are built and doomed mirrors are deleted: under the root, on the mirrors' own file system,
    /// so moving a mirror into place or out of sight is one atomic rename.
    /// </summary>
    public string TempRoot => Path.Combine(_root, ".tmp");

    /// <summary><c>.git</c> for a project's repository, <c>.wiki.git</c> for its wiki, as GitLab names them.</summary>
    public static string Suffix(RepositoryKind kind) => kind == RepositoryKind.Wiki ? ".wiki.git" : ".git";

    /// <summary>The kind as the safety net names it (trash entries, geo-admin): <c>project</c>, <c>wiki</c>.</summary>
    public static string KindName(RepositoryKind kind) => kind == RepositoryKind.Wiki ? "wiki" : "project";

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
            logger.LogInformation("Linked {Link} to project {ProjectId}", link, projectId);
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
}
