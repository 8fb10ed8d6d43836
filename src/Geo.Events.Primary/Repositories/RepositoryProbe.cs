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
    /// <summary>What <see cref="Read"/> found.</summary>
    /// <param name="Refs">Every ref under <c>refs/</c>, as <see cref="RefsChecksum.Read"/> gives them.</param>
    /// <param name="Head">HEAD's target: a ref name for a symbolic HEAD (the usual), an object id for a detached one.</param>
    /// <param name="FullPath">The repository's <c>gitlab.fullpath</c>, which GitLab writes in hashed storage.</param>
    public sealed record State(IReadOnlyDictionary<string, string> Refs, string Checksum, string? Head, string? FullPath);

    /// <summary>
    /// A fingerprint of what changes whenever a ref, HEAD or the config changes: size and modification time of
    /// HEAD, config, packed-refs and reftable's table list, and the modification time of every folder under
    /// <c>refs/</c> (git writes a loose ref as a lock file renamed over the ref, which touches its folder).
    /// Folders that are symbolic links are noted, never entered. Throws if the repository cannot be read.
    /// </summary>
    public static string Stat(string gitDir)
    {
        var text = new StringBuilder(256);
        foreach (var name in (ReadOnlySpan<string>)["HEAD", "config", "packed-refs", "reftable/tables.list"])
        {
            var file = new FileInfo(Path.Combine(gitDir, name));
            text.Append(name).Append(':');
            if (file.LinkTarget is not null)
            {
                throw new IOException($"{name} is a symbolic link, which the detector does not follow");
            }

            if (file.Exists)
            {
                text.Append(file.Length).Append(':').Append(file.LastWriteTimeUtc.Ticks);
            }

            text.Append(';');
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

        var pending = new Stack<DirectoryInfo>([refs]);
        while (pending.Count > 0)
        {
            var folder = pending.Pop();
            text.Append(Path.GetRelativePath(gitDir, folder.FullName)).Append(':').Append(folder.LastWriteTimeUtc.Ticks).Append(';');
            foreach (var child in folder.EnumerateDirectories())
            {
                if (child.LinkTarget is null)
                {
                    pending.Push(child);
                }
            }
        }

        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())))[..32];
    }

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
