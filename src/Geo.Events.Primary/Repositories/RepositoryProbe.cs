using System.Runtime.InteropServices;
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
    /// A fingerprint of what changes whenever a ref, HEAD or the config changes: the inode, size and modification and
    /// change times of the repository's folder (git and Gitaly replace HEAD, config, packed-refs and reftable's table
    /// list by renaming a lock file into it), of <c>reftable/</c> when there is one, and of every folder under
    /// <c>refs/</c> (a loose ref is renamed into its folder), one <c>lstat</c> each. <paramref name="folders"/> lists
    /// those folders; with the list from the last call, only they are looked at (a folder created or removed touches its
    /// parent, so a changed list changes the fingerprint too); without it, <c>refs/</c> is walked and the list
    /// returned. Folders that are symbolic links are never entered; HEAD, config, packed-refs or refs being a link makes
    /// the repository unreadable. A fingerprint with a time younger than <see cref="Racy"/> is "racy:…", never equal
    /// to another.
    /// </summary>
    public static string Stat(string gitDir, ref string[]? folders)
    {
        if (folders is not null)
        {
            var fingerprint = Fingerprint(gitDir, folders, RecentNanoseconds());
            // A folder touched moments ago may be touched again within the same clock tick (the kernel's file times
            // are coarse): such a fingerprint never matches, so the next pass reads the refs again.
            return fingerprint == 0 ? "racy:" + Guid.NewGuid().ToString("N") : Text(fingerprint);
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

    /// <summary>The text <see cref="Stat"/> gives for a fingerprint (what <c>repository_scan.stat</c> holds).</summary>
    public static string Text(ulong fingerprint) => "v2:" + fingerprint.ToString("x16", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Unix time, in nanoseconds, before which a file time is trusted (see <see cref="Racy"/>).</summary>
    public static long RecentNanoseconds() => (DateTimeOffset.UtcNow - Racy).ToUnixTimeMilliseconds() * 1_000_000;

    /// <summary>
    /// <see cref="Stat"/>'s fingerprint over <paramref name="folders"/> (relative to <paramref name="gitDir"/>), with no
    /// allocation: one <c>lstat</c> per folder; 0 when a time is at or after <paramref name="recent"/> (racy).
    /// </summary>
    public static ulong Fingerprint(string gitDir, string[] folders, long recent)
    {
        var hash = Mix(0x9E3779B97F4A7C15UL, Lstat(gitDir, "", out var stamp) ? stamp : default);
        if (stamp.Newest >= recent)
        {
            return 0;
        }

        foreach (var folder in folders)
        {
            if (!Lstat(gitDir, folder, out stamp))
            {
                stamp = default; // gone: a changed parent says so too
            }
            else if (stamp.Newest >= recent)
            {
                return 0;
            }

            hash = Mix(hash, stamp);
        }

        return hash == 0 ? 1 : hash;
    }

    /// <summary>What one <c>lstat</c> says of a folder: enough to see an entry added, removed or renamed in it, or the folder replaced.</summary>
    public readonly record struct Stamp(ulong Inode, ulong Size, long Modified, long Changed, ushort Mode)
    {
        public long Newest => Math.Max(Modified, Changed);

        public bool IsLink => (Mode & 0xF000) == 0xA000;
    }

    /// <summary>
    /// <c>lstat</c> of <paramref name="folder"/> + "/" + <paramref name="name"/> (the folder itself when
    /// <paramref name="name"/> is empty): a symbolic link is described, never followed. False when it does not exist
    /// or cannot be looked at.
    /// </summary>
    public static bool Lstat(string folder, string name, out Stamp stamp)
    {
        Span<byte> path = stackalloc byte[4096];
        var length = Encoding.UTF8.GetBytes(folder, path);
        if (name.Length > 0)
        {
            path[length++] = (byte)'/';
            length += Encoding.UTF8.GetBytes(name, path[length..]);
        }

        path[length] = 0;
        if (Statx(AtCurrentFolder, ref path[0], AtSymlinkNoFollow, StatxWanted, out var buffer) != 0)
        {
            stamp = default;
            return false;
        }

        stamp = new Stamp(buffer.Inode, buffer.Size, buffer.ModifiedSeconds * 1_000_000_000 + buffer.ModifiedNanoseconds,
            buffer.ChangedSeconds * 1_000_000_000 + buffer.ChangedNanoseconds, buffer.Mode);
        return true;
    }

    private static ulong Mix(ulong hash, Stamp stamp)
    {
        foreach (var value in (ReadOnlySpan<ulong>)[stamp.Inode, stamp.Size, (ulong)stamp.Modified, (ulong)stamp.Changed, stamp.Mode])
        {
            hash = (hash ^ value) * 0xFF51AFD7ED558CCDUL;
            hash ^= hash >> 32;
        }

        return hash;
    }

    private const int AtCurrentFolder = -100; // AT_FDCWD
    private const int AtSymlinkNoFollow = 0x100; // AT_SYMLINK_NOFOLLOW
    private const uint StatxWanted = 0x1 | 0x2 | 0x40 | 0x80 | 0x100 | 0x200; // type, mode, mtime, ctime, ino, size

    /// <summary>struct statx (linux/stat.h): the same layout on every architecture.</summary>
#pragma warning disable CS0649 // written by statx
    [StructLayout(LayoutKind.Explicit, Size = 256)]
    private struct StatxBuffer
    {
        [FieldOffset(28)] public ushort Mode;
        [FieldOffset(32)] public ulong Inode;
        [FieldOffset(40)] public ulong Size;
        [FieldOffset(96)] public long ChangedSeconds;
        [FieldOffset(104)] public uint ChangedNanoseconds;
        [FieldOffset(112)] public long ModifiedSeconds;
        [FieldOffset(120)] public uint ModifiedNanoseconds;
    }
#pragma warning restore CS0649

    [DllImport("libc", EntryPoint = "statx")]
    private static extern int Statx(int dirfd, ref byte path, int flags, uint mask, out StatxBuffer buffer);

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
