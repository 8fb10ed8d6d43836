using Geo.Events.Contracts;
using Geo.Events.Core.Paths;
using Geo.Events.Core.Repositories;
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

    /// <summary>
    /// Where the mirror is stored: where GitLab's hashed storage keeps the repository (<see cref="RepositoryLayout.HashedPath"/>:
    /// <c>@hashed/ab/cd/&lt;sha256(id)&gt;.git</c>, <c>.wiki.git</c>, <c>.design.git</c>, <c>@snippets/…</c>, <c>@groups/….wiki.git</c>) under the root.
    /// </summary>
    public string DataPath(long ownerId, RepositoryKind kind = RepositoryKind.Project) =>
        Path.Combine(_root, RepositoryLayout.HashedPath(kind, ownerId).Replace('/', Path.DirectorySeparatorChar));

    /// <summary>The kind as the safety net names it (trash entries, geo-admin): <see cref="RepositoryLayout.Label"/>.</summary>
    public static string KindName(RepositoryKind kind) => RepositoryLayout.Label(kind);

    /// <summary>
    /// The readable link (<see cref="RepositoryLayout.MirrorName"/>: <c>&lt;path&gt;.git</c>, <c>.wiki.git</c>, <c>.design.git</c>,
    /// <c>@snippets/&lt;id&gt;.git</c>); its parent folders must be real folders under the root.
    /// </summary>
    public string LinkPath(long ownerId, RepositoryKind kind, string path)
    {
        var name = RepositoryLayout.MirrorName(kind, ownerId, path);
        if (kind == RepositoryKind.Snippet)
        {
            // Built from the id alone: only the folder it sits in can be a planted link.
            var folder = Path.Combine(_root, RepositoryLayout.SnippetFolder);
            if (new DirectoryInfo(folder).LinkTarget is not null)
            {
                throw new IOException($"{folder} is a symbolic link; snippet mirrors are not linked through it");
            }
        }
        else
        {
            var problem = RepositoryLayout.PathProblem(kind, path);
            if (problem is not null)
            {
                throw new InvalidProjectPathException(path, problem);
            }

            // The same proof as a project path's: under the root, no symbolic link on the way. (A group's path may be
            // one segment, which the project-path check refuses: its folders are proved as those of a project inside it.)
            ProjectPath.ResolveUnder(_root, kind == RepositoryKind.GroupWiki ? path + "/x" : path, "", allowFinalLink: true);
        }

        return Path.Combine(_root, name.Replace('/', Path.DirectorySeparatorChar));
    }

    public bool Exists(long projectId, RepositoryKind kind = RepositoryKind.Project) => Directory.Exists(DataPath(projectId, kind));

    /// <summary>
    /// Points <c>&lt;path&gt;.git</c> at the project's mirror and removes the link at <paramref name="previousPath"/>
    /// if it still points there. Idempotent; the new link appears atomically.
    /// </summary>
    public void Link(long projectId, RepositoryKind kind, string path, string? previousPath)
    {
        var link = LinkPath(projectId, kind, path);
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

        // A snippet's link is named by its id: a new path (its project moved) keeps the same link.
        if (previousPath is not null && previousPath != path && LinkPath(projectId, kind, previousPath) != link)
        {
            Unlink(projectId, kind, previousPath);
        }
    }

    /// <summary>Removes the link at <paramref name="path"/> if it points at this project's mirror, then empty parent folders.</summary>
    public void Unlink(long projectId, RepositoryKind kind, string path)
    {
        var link = LinkPath(projectId, kind, path);
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
