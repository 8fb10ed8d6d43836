using System.Net;
using System.Security.Cryptography;
using Geo.Events.Contracts;
using Geo.Events.Core.Messaging;
using Geo.Events.Core.Paths;
using Geo.Events.Core.Storage;
using Geo.Events.Secondary.Registration;
using Microsoft.Extensions.Options;

namespace Geo.Events.Secondary.Files;

/// <summary>
/// This secondary's copies of the primary's files (Secondary:Files roots by kind). A copy downloads into
/// <c>.&lt;name&gt;.geo-partial</c> next to the destination, streaming (memory stays flat whatever the size),
/// resumes a partial file with <c>Range</c>/<c>If-Range</c>, checks size and SHA-256, flushes to disk, then
/// renames into place and flushes the folder: a reader sees the old file or the complete new one.
/// </summary>
public sealed class FileStore(IOptions<FileStoreOptions> options, ILogger<FileStore> logger)
{
    public const string PartialSuffix = ".geo-partial";
    private const int BufferSize = 1 << 16;

    public enum Outcome
    {
        Copied,
        AlreadyPresent,
        GoneOnPrimary,
    }

    /// <summary>Where a file of this kind lives here; throws for a kind with no root or a path that is not acceptable.</summary>
    public string Resolve(FileKind kind, string path)
    {
        if (!options.Value.Files.TryGetValue(FilePath.Name(kind), out var root) || string.IsNullOrWhiteSpace(root))
        {
            throw new InvalidOperationException($"no root is configured for {FilePath.Name(kind)} files (Secondary:Files:{FilePath.Name(kind)})");
        }

        Directory.CreateDirectory(root);
        return FilePath.ResolveUnder(root, path);
    }

    public async Task<Outcome> CopyAsync(PrimaryApi api, FileCreated file, CancellationToken cancellationToken)
    {
        var destination = Resolve(file.Kind, file.Path);
        if (File.Exists(destination) && new FileInfo(destination).Length == file.Size && await HashAsync(destination, cancellationToken) == file.Sha256)
        {
            return Outcome.AlreadyPresent;
        }

        var folder = Path.GetDirectoryName(destination)!;
        Directory.CreateDirectory(folder);
        var partial = Path.Combine(folder, "." + Path.GetFileName(destination) + PartialSuffix);
        var offset = File.Exists(partial) ? new FileInfo(partial).Length : 0;
        if (offset > file.Size)
        {
            File.Delete(partial);
            offset = 0;
        }

        var etagFile = partial + ".etag";
        var etag = offset > 0 && File.Exists(etagFile) ? await File.ReadAllTextAsync(etagFile, cancellationToken) : null;
        var idle = options.Value.DownloadIdleTimeout;
        using var response = await DownloadAsync(api, file, offset, etag, idle, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            DeleteQuietly(partial, etagFile);
            return Outcome.GoneOnPrimary;
        }

        if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
        {
            DeleteQuietly(partial, etagFile);
            throw new IOException($"the primary refused to resume {file.Path} at byte {offset}; starting over on the next try");
        }

        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"geo-primary answered {(int)response.StatusCode} for {FilePath.Name(file.Kind)} {file.Path}", null, response.StatusCode);
        }

        var resumed = response.StatusCode == HttpStatusCode.PartialContent && offset > 0;
        if (response.Headers.ETag?.Tag is { } tag)
        {
            await File.WriteAllTextAsync(etagFile, tag, cancellationToken);
        }

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await using (var output = new FileStream(partial, resumed ? FileMode.Open : FileMode.Create, FileAccess.ReadWrite, FileShare.None, BufferSize, FileOptions.Asynchronous))
        {
            var buffer = new byte[BufferSize];
            if (resumed)
            {
                // The bytes we have count toward the checksum: read them once, then append after them.
                int have;
                while ((have = await output.ReadAsync(buffer, cancellationToken)) > 0)
                {
                    hash.AppendData(buffer, 0, have);
                }

                logger.LogInformation("Resuming {Path} at byte {Offset} of {Size}", file.Path, offset, file.Size);
            }

            await using var input = await response.Content.ReadAsStreamAsync(cancellationToken);
            while (true)
            {
                // No overall limit (files can be large), but a download that stalls is stopped and retried.
                using var stall = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                stall.CancelAfter(idle);
                int read;
                try
                {
                    read = await input.ReadAsync(buffer, stall.Token);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    throw new TimeoutException($"no bytes of {file.Path} for {Durations.Format(idle)}; the download resumes on the next try");
                }

                if (read == 0)
                {
                    break;
                }

                hash.AppendData(buffer, 0, read);
                await output.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                if (output.Length > file.Size)
                {
                    break;
                }
            }

            await output.FlushAsync(cancellationToken);
            output.Flush(flushToDisk: true);
            if (output.Length != file.Size)
            {
                var length = output.Length;
                await output.DisposeAsync();
                if (length > file.Size)
                {
                    DeleteQuietly(partial, etagFile);
                }

                throw new IOException($"{file.Path}: got {length} bytes, expected {file.Size}");
            }
        }

        var actual = Convert.ToHexStringLower(hash.GetHashAndReset());
        if (actual != file.Sha256)
        {
            DeleteQuietly(partial, etagFile);
            throw new FileChecksumException(file.Path, file.Sha256, actual);
        }

        File.Move(partial, destination, overwrite: true);
        Posix.SyncDirectory(folder);
        DeleteQuietly(etagFile);
        return Outcome.Copied;
    }

    /// <summary>
    /// Asks for the file (from <paramref name="offset"/>), waiting at most <paramref name="idle"/> for the answer's
    /// headers: a primary that accepts the connection and then says nothing must not hold the consumer for ever.
    /// </summary>
    private static async Task<HttpResponseMessage> DownloadAsync(PrimaryApi api, FileCreated file, long offset, string? etag, TimeSpan idle, CancellationToken cancellationToken)
    {
        using var answer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        answer.CancelAfter(idle);
        try
        {
            return await api.DownloadAsync(file.Kind, file.Path, offset, etag, answer.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"geo-primary did not answer for {file.Path} within {Durations.Format(idle)}; the download is tried again");
        }
    }

    /// <summary>Removes the file and any partial download of it; true when there was a file.</summary>
    public bool Delete(FileKind kind, string path)
    {
        var destination = Resolve(kind, path);
        var folder = Path.GetDirectoryName(destination)!;
        var partial = Path.Combine(folder, "." + Path.GetFileName(destination) + PartialSuffix);
        DeleteQuietly(partial, partial + ".etag");
        if (!File.Exists(destination))
        {
            return false;
        }

        File.Delete(destination);
        Posix.SyncDirectory(folder);
        return true;
    }

    public static async Task<string> HashAsync(string path, CancellationToken cancellationToken)
    {
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, BufferSize, FileOptions.Asynchronous | FileOptions.SequentialScan);
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken));
    }

    private static void DeleteQuietly(params string[] paths)
    {
        foreach (var path in paths)
        {
            if (File.Exists(path))
            {
                File.Delete(path);
            }
        }
    }
}

/// <summary>The bytes did not match the event's SHA-256: retried, then dead-lettered with both sums.</summary>
public sealed class FileChecksumException(string path, string expected, string actual)
    : IOException($"{path}: SHA-256 {actual} does not match the primary's {expected}");
