using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Geo.Events.Contracts;
using Geo.Events.Testing;

namespace Geo.Events.IntegrationTests;

/// <summary>Uploads, LFS objects and avatars: announced, served over real HTTP, copied, verified, destroyed.</summary>
[TestClass]
public sealed class FileTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    // Failures straight to the error queue: these tests look at outcomes, not at the retry schedule.
    private static readonly Dictionary<string, string> NoRetries = new() { ["Retry:Immediate"] = "none", ["Retry:Delays"] = "none" };

    [TestMethod]
    public async Task APostedUploadIsCopiedVerifiedAndDestroyedAndALateCreateDoesNotResurrectIt()
    {
        await using var site = await GeoSite.StartAsync(["tokyo"], register: true, secondarySettings: NoRetries);
        var path = "@hashed/6b/86/6b86b273ff34fce19d6b804eff5a3f5747ada4eaa22f1d49c01e52ddb7875b4b/0123abcd/report.pdf";
        var (size, sha) = WriteRandom(Path.Combine(site.PrimaryFiles("upload"), path), 1_000_000);

        await site.Hooks.AcceptedAsync(FileEvent("upload_create", path, size, sha));
        var copy = Path.Combine(site.SecondaryFiles("tokyo", "upload"), path);
        await WaitForStateAsync(site, "tokyo", path, "present");
        Assert.AreEqual(sha, Sha256(copy), "the copy's bytes differ from the primary's");
        Assert.AreEqual(0, Directory.GetFiles(Path.GetDirectoryName(copy)!, "*.geo-partial*").Length, "a partial download was left behind");

        var destroy = await site.Hooks.AcceptedAsync(FileEvent("upload_destroy", path));
        await WaitForStateAsync(site, "tokyo", path, "destroyed");
        Assert.IsFalse(File.Exists(copy));

        // A create recorded before the destroy, delivered after it (at-least-once delivery reorders); then a
        // marker event behind it in the queue, so we know when the late one has been handled.
        File.WriteAllBytes(Path.Combine(site.PrimaryFiles("avatar"), "marker.png"), []);
        await using (var bus = await site.ForgeryBusAsync())
        {
            await bus.Publish(new FileCreated { EventId = Guid.NewGuid(), Sequence = destroy - 1, OccurredAt = DateTimeOffset.UtcNow, Kind = FileKind.Upload, Path = path, Size = size, Sha256 = sha });
            await bus.Publish(new FileCreated { EventId = Guid.NewGuid(), Sequence = destroy + 1000, OccurredAt = DateTimeOffset.UtcNow, Kind = FileKind.Avatar, Path = "marker.png", Size = 0, Sha256 = Convert.ToHexStringLower(SHA256.HashData([])) });
        }

        await WaitForStateAsync(site, "tokyo", "marker.png", "present");
        Assert.IsFalse(File.Exists(copy), "a late, older create brought the destroyed file back");
        Assert.AreEqual(destroy, await site.QuerySecondaryAsync<long>("tokyo", "SELECT sequence FROM files WHERE path = @path", new { path }));
    }

    [TestMethod]
    public async Task AChecksumMismatchFailsVisiblyAndAFileGoneOnThePrimaryIsRecordedNotRetried()
    {
        await using var site = await GeoSite.StartAsync(["tokyo"], register: true, secondarySettings: NoRetries);
        var (size, _) = WriteRandom(Path.Combine(site.PrimaryFiles("lfs_object"), "ab/cd/tampered"), 4096);
        await site.Hooks.AcceptedAsync(FileEvent("lfs_object_create", "ab/cd/tampered", size, new string('0', 64)));
        await site.Hooks.AcceptedAsync(FileEvent("lfs_object_create", "ab/cd/never-existed", 10, new string('1', 64)));

        await WaitForStateAsync(site, "tokyo", "ab/cd/tampered", "failed");
        await WaitForStateAsync(site, "tokyo", "ab/cd/never-existed", "gone");
        await GeoSite.WaitUntilAsync(
            async () => await site.QueryPrimaryAsync<long>("SELECT count(*) FROM dead_letters WHERE exception_type LIKE '%FileChecksumException'") == 1,
            Timeout, () => "the checksum mismatch did not reach the dead letters");
        StringAssert.Contains(await site.QuerySecondaryAsync<string>("tokyo", "SELECT last_error FROM files WHERE path = 'ab/cd/tampered'"), "does not match");
        Assert.IsFalse(File.Exists(Path.Combine(site.SecondaryFiles("tokyo", "lfs_object"), "ab/cd/tampered")), "a file with the wrong bytes was put in place");
        Assert.AreEqual(0L, await site.QueryPrimaryAsync<long>("SELECT count(*) FROM dead_letters WHERE body::text LIKE '%never-existed%'"), "a gone file must not be dead-lettered");
    }

    [TestMethod]
    public async Task BadPathsAreRejectedAtIngestRefusedAtTheSecondaryAndUnreachableOverHttp()
    {
        await using var site = await GeoSite.StartAsync(["tokyo"], register: true, secondarySettings: NoRetries);
        var outside = Directory.CreateTempSubdirectory("geo-outside-");
        try
        {
            await File.WriteAllTextAsync(Path.Combine(outside.FullName, "secret"), "not for secondaries");
            Directory.CreateSymbolicLink(Path.Combine(site.PrimaryFiles("upload"), "escape"), outside.FullName);
            var sha = new string('a', 64);
            foreach (var (path, reason) in new[]
            {
                ("../../etc/passwd", "'..'"), ("/etc/passwd", "relative"), ("a\\b", "backslash"), ("a/%2e%2e/b", "may only hold"),
                ("a/\u0000/b", "control"), ("a//b", "''"), ("./a", "'.'"), (".hidden/x", "must not start with '.'"),
                (string.Join('/', Enumerable.Repeat("d", 40)), "segments"), (new string('x', 300), "longer than"), ("caf\u00e9/menu", "may only hold"),
                ("escape/secret", "symbolic link"),
            })
            {
                using var response = await site.Hooks.PostAsync(FileEvent("upload_create", path, 5, sha));
                var body = await response.Content.ReadAsStringAsync();
                Assert.AreEqual(HttpStatusCode.UnprocessableEntity, response.StatusCode, $"{path}: {body}");
                StringAssert.Contains(body, reason, path);
            }

            Assert.AreEqual(0L, await site.EventCountAsync(), "a rejected file event reached the event log");

            // Forged straight onto the broker: the secondary refuses it too, and writes nothing.
            await using (var bus = await site.ForgeryBusAsync())
            {
                await bus.Publish(new FileCreated { EventId = Guid.NewGuid(), Sequence = 1, OccurredAt = DateTimeOffset.UtcNow, Kind = FileKind.Upload, Path = "../../../forged", Size = 5, Sha256 = sha });
            }

            await GeoSite.WaitUntilAsync(
                async () => await site.QueryPrimaryAsync<long>("SELECT count(*) FROM dead_letters WHERE exception_type LIKE '%InvalidFilePathException'") == 1,
                Timeout, () => "the forged path was not refused");
            Assert.IsFalse(File.Exists(Path.Combine(site.Root, "forged")) || File.Exists(Path.Combine(site.Root, "files-tokyo", "forged")));

            // Serving: only a registered secondary's token, only files under the roots, Range honoured.
            var (_, fileSha) = WriteRandom(Path.Combine(site.PrimaryFiles("avatar"), "user/avatar/1/avatar.png"), 100_000);
            var token = await site.QuerySecondaryAsync<string>("tokyo", "SELECT access_token FROM registration");
            using (var anonymous = await site.Http.GetAsync("/api/v1/secondaries/tokyo/files/avatar/user/avatar/1/avatar.png"))
            {
                Assert.AreEqual(HttpStatusCode.Unauthorized, anonymous.StatusCode);
            }

            using (var whole = await GetAsync(site, token, "avatar/user/avatar/1/avatar.png"))
            {
                Assert.AreEqual(HttpStatusCode.OK, whole.StatusCode);
                Assert.AreEqual(fileSha, Convert.ToHexStringLower(SHA256.HashData(await whole.Content.ReadAsByteArrayAsync())));
                Assert.IsNotNull(whole.Headers.ETag);
            }

            using (var part = await GetAsync(site, token, "avatar/user/avatar/1/avatar.png", range: new RangeHeaderValue(1000, 1999)))
            {
                Assert.AreEqual(HttpStatusCode.PartialContent, part.StatusCode);
                var expected = File.ReadAllBytes(Path.Combine(site.PrimaryFiles("avatar"), "user/avatar/1/avatar.png"))[1000..2000];
                CollectionAssert.AreEqual(expected, await part.Content.ReadAsByteArrayAsync());
            }

            foreach (var path in new[] { "upload/escape/secret", "upload/..%2F..%2Fprimary-repos", "avatar/..%2Fupload", "nonsense/x", "upload/%2Fetc%2Fpasswd" })
            {
                using var response = await GetAsync(site, token, path);
                Assert.AreEqual(HttpStatusCode.NotFound, response.StatusCode, path);
            }

        }
        finally
        {
            outside.Delete(recursive: true);
        }
    }

    [TestMethod]
    public async Task TheWatcherAnnouncesSettledFilesOnlyAndCatchesUpAfterARestart()
    {
        var settle = TimeSpan.FromSeconds(10);
        var watching = new Dictionary<string, string> { ["Primary:FileScanInterval"] = "00:00:01", ["Primary:FileSettleTime"] = settle.ToString() };
        await using var site = await GeoSite.StartAsync(["tokyo"], register: true, primarySettings: watching);
        var (_, sha) = WriteRandom(Path.Combine(site.PrimaryFiles("upload"), "a/first.txt"), 50_000);
        await WaitForStateAsync(site, "tokyo", "a/first.txt", "present");
        Assert.AreEqual(sha, Sha256(Path.Combine(site.SecondaryFiles("tokyo", "upload"), "a/first.txt")));

        // Written in chunks with pauses, as an upload arrives. After each chunk the watcher records the file
        // at its new size, then scans the store once more from start to end while the writer pauses: a watcher
        // that does not wait for the settle time announces it then. Paced by the watcher's scans, not a clock.
        var slow = Path.Combine(site.PrimaryFiles("upload"), "a/slow.bin");
        await using (var writer = new FileStream(slow, FileMode.Create, FileAccess.Write, FileShare.Read))
        {
            for (var i = 1; i <= 3; i++)
            {
                var chunkWritten = DateTime.UtcNow;
                await writer.WriteAsync(RandomNumberGenerator.GetBytes(10_000));
                await writer.FlushAsync();
                await WaitForAnotherScanAsync(site, "a/slow.bin", i * 10_000L, $"marker-{i}");
                var paused = DateTime.UtcNow - chunkWritten;
                Assert.IsTrue(paused < settle, $"a pause between chunks took {paused.TotalSeconds:0.0} s, longer than the settle time: the check below would prove nothing");
                Assert.AreEqual(0L, await site.QueryPrimaryAsync<long>("SELECT count(*) FROM event_log WHERE body->>'Path' = 'a/slow.bin'"),
                    $"announced after chunk {i} of 3 while still being written");
            }
        }

        await WaitForStateAsync(site, "tokyo", "a/slow.bin", "present");
        Assert.AreEqual(Sha256(slow), Sha256(Path.Combine(site.SecondaryFiles("tokyo", "upload"), "a/slow.bin")));

        File.Delete(Path.Combine(site.PrimaryFiles("upload"), "a/first.txt"));
        await WaitForStateAsync(site, "tokyo", "a/first.txt", "destroyed");
        Assert.IsFalse(File.Exists(Path.Combine(site.SecondaryFiles("tokyo", "upload"), "a/first.txt")));

        // Changes made while geo-primary is down are found by its first scan after the restart.
        await site.KillPrimaryAsync();
        WriteRandom(Path.Combine(site.PrimaryFiles("lfs_object"), "12/34/while-down"), 20_000);
        File.Delete(slow);
        File.SetLastWriteTimeUtc(Path.Combine(site.PrimaryFiles("lfs_object"), "12/34/while-down"), DateTime.UtcNow.AddMinutes(-1));
        await site.StartPrimaryAsync();
        await WaitForStateAsync(site, "tokyo", "12/34/while-down", "present");
        await WaitForStateAsync(site, "tokyo", "a/slow.bin", "destroyed");
    }

    [TestMethod]
    public async Task ALargeFileIsCopiedWithFlatMemoryAndAPartialDownloadResumes()
    {
        await using var site = await GeoSite.StartAsync(["tokyo"], register: true);
        const long size = 300L * 1024 * 1024;
        var path = "big/object.bin";
        var (_, sha) = WriteRandom(Path.Combine(site.PrimaryFiles("lfs_object"), path), size);

        // Half of it is already here from an earlier, interrupted try.
        var copy = Path.Combine(site.SecondaryFiles("tokyo", "lfs_object"), path);
        Directory.CreateDirectory(Path.GetDirectoryName(copy)!);
        await using (var source = File.OpenRead(Path.Combine(site.PrimaryFiles("lfs_object"), path)))
        await using (var partial = File.Create(Path.Combine(Path.GetDirectoryName(copy)!, ".object.bin.geo-partial")))
        {
            var half = new byte[size / 2];
            await source.ReadExactlyAsync(half);
            await partial.WriteAsync(half);
        }

        var before = site.Secondary("tokyo").PeakResidentBytes();
        await site.Hooks.AcceptedAsync(FileEvent("lfs_object_create", path, size, sha));
        await WaitForStateAsync(site, "tokyo", path, "present", TimeSpan.FromMinutes(3));
        var growth = site.Secondary("tokyo").PeakResidentBytes() - before;

        Assert.AreEqual(sha, Sha256(copy));
        StringAssert.Contains(site.Secondary("tokyo").Log(), "Resuming big/object.bin at byte 157286400", "the partial download was not resumed with Range");
        Assert.IsTrue(growth < 64L * 1024 * 1024, $"peak memory grew by {growth / (1024 * 1024)} MiB while copying a {size / (1024 * 1024)} MiB file");
    }

    /// <summary>
    /// Waits until the storage watcher has recorded the upload at <paramref name="path"/> with
    /// <paramref name="size"/> bytes and then walked the upload store once more, start to end: a marker file
    /// is created, recorded, deleted, and its removal noticed, which only a walk that began after the marker
    /// was recorded (so after the upload's size was) can do, at its end.
    /// </summary>
    private static async Task WaitForAnotherScanAsync(GeoSite site, string path, long size, string marker)
    {
        const string Count = "SELECT count(*) FROM file_inventory WHERE path = @path AND (@size IS NULL OR size = @size)";
        await GeoSite.WaitUntilAsync(async () => await site.QueryPrimaryAsync<long>(Count, new { path, size = (long?)size }) == 1,
            TimeSpan.FromSeconds(60), () => $"the watcher never recorded {path} at {size} bytes");
        var file = Path.Combine(site.PrimaryFiles("upload"), "markers", marker);
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        await File.WriteAllBytesAsync(file, []);
        await GeoSite.WaitUntilAsync(async () => await site.QueryPrimaryAsync<long>(Count, new { path = "markers/" + marker, size = (long?)null }) == 1,
            TimeSpan.FromSeconds(60), () => $"the watcher never recorded {marker}");
        File.Delete(file);
        await GeoSite.WaitUntilAsync(async () => await site.QueryPrimaryAsync<long>(Count, new { path = "markers/" + marker, size = (long?)null }) == 0,
            TimeSpan.FromSeconds(60), () => $"the watcher never noticed {marker} was deleted");
    }

    internal static JsonObject FileEvent(string name, string path, long? size = null, string? sha256 = null)
    {
        var payload = new JsonObject { ["event_name"] = name, ["path"] = path };
        if (size is not null)
        {
            payload["size"] = size;
            payload["sha256"] = sha256;
        }

        return payload;
    }

    internal static async Task WaitForStateAsync(GeoSite site, string name, string path, string state, TimeSpan? timeout = null) =>
        await GeoSite.WaitUntilAsync(
            async () => await site.QuerySecondaryAsync<string?>(name, "SELECT min(state) FROM files WHERE path = @path", new { path }) == state,
            timeout ?? Timeout, () => $"{name}: {path} did not become {state}");

    private static async Task<HttpResponseMessage> GetAsync(GeoSite site, string token, string kindAndPath, RangeHeaderValue? range = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/secondaries/tokyo/files/" + kindAndPath);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        request.Headers.Range = range;
        return await site.Http.SendAsync(request);
    }

    internal static (long Size, string Sha256) WriteRandom(string path, long size)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using (var stream = File.Create(path))
        {
            var buffer = new byte[1 << 20];
            for (var left = size; left > 0; left -= buffer.Length)
            {
                RandomNumberGenerator.Fill(buffer);
                var count = (int)Math.Min(buffer.Length, left);
                stream.Write(buffer, 0, count);
                hash.AppendData(buffer, 0, count);
            }
        }

        return (size, Convert.ToHexStringLower(hash.GetHashAndReset()));
    }

    internal static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
