using System.Security.Cryptography;
using System.Text;
using Geo.Events.Core.Repositories;
using LibGit2Sharp;

namespace Geo.Events.Primary.Repositories;

/// <summary>
/// Looks at one repository in GitLab's storage without writing to it. <see cref="Stat"/> is the cheap look the
/// detector takes at every repository on every pass; <see cref="Read"/> opens the repository, and is only done
/// when the stat moved.
/// </summary>
public static class RepositoryProbe
{
    /// <summary>File times younger than this are not trusted to tell "unchanged" (see <see cref="Stat"/>).</summary>
    public static readonly TimeSpan Racy = TimeSpan.FromSeconds(2);

    /// <summary>What <see cref="Read"/> found.</summary>
    /// <param name="Refs">Every ref under <c>refs/</c>, as <see cref="RefsChecksum.Read"/> gives them.</param>
    /// <param name="Head">HEAD's target: a ref name for a symbolic HEAD (the usual), an object id for a detached one.</param>
    /// <param name="FullPath">The repository's <c>gitlab.fullpath</c>, which GitLab writes in hashed storage.</param>
    public sealed record State(IReadOnlyDictionary<string, string> Refs, string Checksum, string? Head, string? FullPath);

    /// <summary>
    /// A fingerprint of what changes whenever a ref, HEAD or the config changes: the modification time of the
    /// repository's folder (git and Gitaly replace HEAD, config, packed-refs and reftable's table list by renaming a
    /// lock file into it), of <c>reftable/</c> when there is one, and of every folder under <c>refs/</c> (a loose ref
    /// is renamed into its folder). <paramref name="folders"/> lists those folders; with the list from the last call,
    /// only they are looked at (a folder created or removed touches its parent, so a changed list changes the
    /// fingerprint too); without it, <c>refs/</c> is walked and the list returned. Folders that are symbolic links are
    /// never entered; HEAD, config, packed-refs or refs being a link makes the repository unreadable.
    /// </summary>
    public static string Stat(string gitDir, ref string[]? folders)
    {
        var text = new StringBuilder(128);
        var recent = (DateTime.UtcNow - Racy).Ticks;
        var mtime = Directory.GetLastWriteTimeUtc(gitDir).Ticks;
        var racy = mtime >= recent;
        text.Append(mtime).Append(';');
        if (folders is not null)
        {
            foreach (var folder in folders)
            {
                var path = Path.Combine(gitDir, folder);
                mtime = Directory.Exists(path) ? Directory.GetLastWriteTimeUtc(path).Ticks : 0;
                racy |= mtime >= recent;
                text.Append(folder).Append(':').Append(mtime).Append(';');
            }

            // A folder touched moments ago may be touched again within the same clock tick (the kernel's file times
            // are coarse): such a fingerprint never matches, so the next pass reads the refs again.
            return racy ? "racy:" + Guid.NewGuid().ToString("N") : Hash(text);
        }

        foreach (var name in (ReadOnlySpan<string>)["HEAD", "config", "packed-refs"])
        {
            if (new FileInfo(Path.Combine(gitDir, name)).LinkTarget is not null)
            {
                throw new IOException($"{name} is a symbolic link, which the detector does not follow");
            }
        }

        var refs = new DirectoryInfo(Path.Combine(gitDir, "refs"));
        if (refs.LinkTarget is not null)
        {
            throw new IOException("refs is a symbolic link, which the detector does not follow");
        }

        if (!refs.Exists)
        {
            throw new IOException("it has no refs folder");
        }

        var found = new List<string>();
        var reftable = new DirectoryInfo(Path.Combine(gitDir, "reftable"));
        if (reftable.Exists && reftable.LinkTarget is null)
        {
            found.Add("reftable");
        }

        var pending = new Stack<DirectoryInfo>([refs]);
        while (pending.Count > 0)
        {
            var folder = pending.Pop();
            found.Add(Path.GetRelativePath(gitDir, folder.FullName));
            foreach (var child in folder.EnumerateDirectories())
            {
                if (child.LinkTarget is null)
                {
                    pending.Push(child);
                }
            }
        }

        folders = [.. found];
        return Stat(gitDir, ref folders);
    }

    private static string Hash(StringBuilder text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())))[..32];

    /// <summary>Reads the refs, HEAD and <c>gitlab.fullpath</c>. Throws if the repository cannot be read.</summary>
    public static State Read(string gitDir)
    {
        using var repo = new Repository(gitDir);
        var refs = RefsChecksum.Read(repo);
        var head = repo.Refs.Head switch
        {
            SymbolicReference symbolic => symbolic.TargetIdentifier,
            { } direct => direct.TargetIdentifier,
            null => null,
        };
        var fullPath = repo.Config.Get<string>("gitlab.fullpath", ConfigurationLevel.Local)?.Value;
        return new State(refs, RefsChecksum.Of(refs), head, fullPath);
    }
}
