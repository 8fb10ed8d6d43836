using System.Text;
using Geo.Events.Core.Storage;

namespace Geo.Events.Secondary.Keys;

/// <summary>
/// gitlab-shell's authorized_keys format, and the one safe way to rewrite the file: under
/// <c>authorized_keys.lock</c> (the flock GitLab's own writer takes), into a temp file in the same folder,
/// flushed to disk, renamed over the old one, and the folder synced. A kill at any instant leaves the old
/// file or the new one, never half of either. Lines this class does not manage are kept as they were.
/// </summary>
public sealed class AuthorizedKeysFile(string path, string shellCommand, TimeSpan lockTimeout)
{
    private readonly string _managedPrefix = $"command=\"{shellCommand} key-";

    /// <summary>
    /// The file as this instance last wrote it (size and modification time) and the lines in it it does not manage. When
    /// the file is still that one, the next rewrite takes those lines from here instead of reading 100,000 lines of its own
    /// back (80-215 ms of CPU for 100,000 lines, about half of a rewrite before). Any other writer (GitLab's appends, a rename over it, an edit by hand) changes the
    /// size or the modification time, and the file is read again.
    /// </summary>
    private (long Length, DateTime Written, List<string> Kept)? _lastWritten;

    public string Path { get; } = path;

    /// <summary>One line, built only from parsed parts and the validated shell path.</summary>
    public static string Line(string shellCommand, long keyId, string keyType, string keyBlob) =>
        AuthorizedKeysLine.For(shellCommand, keyId, keyType, keyBlob);

    /// <summary>Lines we wrote look exactly like <see cref="Line"/>: the shell path, then key-&lt;digits&gt;.</summary>
    public bool IsManaged(string line)
    {
        if (!line.StartsWith(_managedPrefix, StringComparison.Ordinal))
        {
            return false;
        }

        var rest = line.AsSpan(_managedPrefix.Length);
        var digits = 0;
        while (digits < rest.Length && char.IsAsciiDigit(rest[digits]))
        {
            digits++;
        }

        return digits > 0 && rest[digits..].StartsWith("\",", StringComparison.Ordinal);
    }

    /// <summary>Replaces every managed line with <paramref name="keys"/>; returns the number of key lines written.</summary>
    public async Task<int> RewriteAsync(IAsyncEnumerable<KeyRegistry.LiveKey> keys, CancellationToken cancellationToken)
    {
        var directory = System.IO.Path.GetDirectoryName(Path)!;
        Directory.CreateDirectory(directory);
        await using var fileLock = await LockAsync(cancellationToken);
        RemoveAbandonedTemps(directory);

        var current = new FileInfo(Path);
        var kept = !current.Exists ? []
            : _lastWritten is { } last && last.Length == current.Length && last.Written == current.LastWriteTimeUtc ? last.Kept
            : await ForeignLinesAsync(cancellationToken);
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("authorized_keys is maintained on Linux only");
        }

        // Keep the file's mode (sshd's StrictModes cares); a new file is private to its owner.
        var mode = File.Exists(Path) ? File.GetUnixFileMode(Path) : UnixFileMode.UserRead | UnixFileMode.UserWrite;

        var temp = System.IO.Path.Combine(directory, $".{System.IO.Path.GetFileName(Path)}.{Guid.NewGuid():N}.tmp");
        var written = 0;
        try
        {
            await using (var stream = new FileStream(temp, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                UnixCreateMode = mode,
                BufferSize = 1 << 16,
            }))
            {
                foreach (var line in kept)
                {
                    await stream.WriteAsync(Encoding.UTF8.GetBytes(line + "\n"), cancellationToken);
                }

                var lines = new AuthorizedKeysLine.Utf8(shellCommand);
                await foreach (var key in keys.WithCancellation(cancellationToken))
                {
                    await stream.WriteAsync(lines.Line(key.KeyId, key.KeyType, key.KeyBlob), cancellationToken);
                    written++;
                }

                await stream.FlushAsync(cancellationToken);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, Path, overwrite: true); // rename(2): atomic within the folder
            Posix.SyncDirectory(directory);
            var done = new FileInfo(Path);
            _lastWritten = (done.Length, done.LastWriteTimeUtc, kept);
            return written;
        }
        finally
        {
            File.Delete(temp);
        }
    }

    /// <summary>The lines of the file this class does not manage, in their order.</summary>
    private async Task<List<string>> ForeignLinesAsync(CancellationToken cancellationToken)
    {
        var kept = new List<string>();
        using var reader = new StreamReader(Path);
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (!IsManaged(line))
            {
                kept.Add(line);
            }
        }

        return kept;
    }

    /// <summary>
    /// A writer killed mid-rewrite leaves its temp file (a whole copy of the file) behind. Temp files are only
    /// written under the lock, which we hold, so any that exist now are abandoned.
    /// </summary>
    private void RemoveAbandonedTemps(string directory)
    {
        var prefix = $".{System.IO.Path.GetFileName(Path)}.";
        foreach (var temp in Directory.EnumerateFiles(directory, ".*.tmp"))
        {
            var name = System.IO.Path.GetFileName(temp);
            if (name.StartsWith(prefix, StringComparison.Ordinal) && name.Length == prefix.Length + 32 + ".tmp".Length)
            {
                File.Delete(temp);
            }
        }
    }

    /// <summary>flock(LOCK_EX) on <c>&lt;file&gt;.lock</c>, as GitLab's Gitlab::AuthorizedKeys does; .NET takes it for FileShare.None.</summary>
    private async Task<FileStream> LockAsync(CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + lockTimeout;
        while (true)
        {
            try
            {
                return new FileStream(Path + ".lock", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(20, cancellationToken);
            }
        }
    }
}
