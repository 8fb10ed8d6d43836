using Geo.Events.Contracts;
using Geo.Events.Testing;

namespace Geo.Events.IntegrationTests;

/// <summary>
/// A secondary re-checks every path it is handed, whatever geo-primary let through: events with bad project, wiki,
/// namespace and file paths are forged straight onto its queue (as a replayed, altered or injected message would
/// arrive), and must each be dead-lettered with the path check's reason while nothing on disk changes, inside the
/// roots or outside them.
/// </summary>
[TestClass]
public sealed class ForgedPathTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    // Failures straight to the error queue: each forged event is one dead letter.
    private static readonly Dictionary<string, string> NoRetries = new() { ["Retry:Immediate"] = "none", ["Retry:Delays"] = "none" };

    [TestMethod]
    public async Task ForgedBadPathsAreDeadLetteredAndWriteNothingAnywhere()
    {
        await using var site = await GeoSite.StartAsync(["tokyo"], register: true, secondarySettings: NoRetries);
        var (project, _) = await site.CreatePushedRepositoryAsync("good/project", 1);
        await site.WaitForMirrorsAsync(project);

        var marker = "forged" + Guid.NewGuid().ToString("N")[..12];
        string[] projectPaths =
        [
            $"../{marker}", $"../../{marker}", $"../../../../{marker}", $"/tmp/{marker}", $"good/../../{marker}", $"good/./{marker}",
            $"good\\..\\{marker}", $"good/%2e%2e/{marker}", $"good/{marker}\n", $"good/{marker}\0x", $"good//{marker}", $"good/{marker}/..",
        ];
        string[] filePaths =
        [
            $"../{marker}", $"../../../{marker}", $"/tmp/{marker}", $"a/../../{marker}", $"a\\..\\{marker}", $"a/{marker}\0", $"./{marker}",
        ];

        var before = Snapshot(site.Root);
        var sequence = 1_000L;
        var forged = 0;
        await using (var bus = await site.ForgeryBusAsync())
        {
            async Task Forge<T>(T message)
                where T : class
            {
                await bus.Publish(message);
                forged++;
            }

            foreach (var path in projectPaths)
            {
                foreach (var kind in new[] { RepositoryKind.Project, RepositoryKind.Wiki })
                {
                    await Forge(new RepositoryChanged { EventId = Guid.NewGuid(), Sequence = ++sequence, OccurredAt = DateTimeOffset.UtcNow, ProjectId = 2, PathWithNamespace = path, Kind = kind, Trigger = "push" });
                }

                // The real project moved to, or from, a bad path; destroyed under one; its group renamed to one.
                await Forge(new ProjectRenamed { EventId = Guid.NewGuid(), Sequence = ++sequence, OccurredAt = DateTimeOffset.UtcNow, ProjectId = 1, PathWithNamespace = path, OldPathWithNamespace = "good/project", Trigger = "project_rename" });
                await Forge(new ProjectRenamed { EventId = Guid.NewGuid(), Sequence = ++sequence, OccurredAt = DateTimeOffset.UtcNow, ProjectId = 1, PathWithNamespace = "good/other", OldPathWithNamespace = path, Trigger = "project_transfer" });
                await Forge(new ProjectDestroyed { EventId = Guid.NewGuid(), Sequence = ++sequence, OccurredAt = DateTimeOffset.UtcNow, ProjectId = 1, PathWithNamespace = path });
                await Forge(new NamespaceRenamed { EventId = Guid.NewGuid(), Sequence = ++sequence, OccurredAt = DateTimeOffset.UtcNow, FullPath = path, OldFullPath = "good" });
            }

            foreach (var path in filePaths)
            {
                foreach (var kind in Enum.GetValues<FileKind>())
                {
                    await Forge(new FileCreated { EventId = Guid.NewGuid(), Sequence = ++sequence, OccurredAt = DateTimeOffset.UtcNow, Kind = kind, Path = path, Size = 5, Sha256 = new string('a', 64) });
                    await Forge(new FileDestroyed { EventId = Guid.NewGuid(), Sequence = ++sequence, OccurredAt = DateTimeOffset.UtcNow, Kind = kind, Path = path });
                }
            }
        }

        await GeoSite.WaitUntilAsync(
            async () => await site.QueryPrimaryAsync<long>("SELECT count(*) FROM dead_letters WHERE secondary = 'tokyo'") >= forged,
            Timeout, () => $"fewer than {forged} forged events were dead-lettered");

        // Each one refused by the path check itself, with its reason: not by a fetch or a download that failed later.
        var refusals = await site.QueryPrimaryAsync<long>(
            """
            SELECT count(*) FROM dead_letters
             WHERE secondary = 'tokyo' AND reason = 'fault'
               AND exception_type LIKE ANY (ARRAY['%InvalidProjectPathException', '%InvalidFilePathException'])
               AND length(exception_message) > 0
            """);
        Assert.AreEqual((long)forged, refusals, "some forged events were dead-lettered for another reason than their path");

        var after = Snapshot(site.Root);
        CollectionAssert.AreEquivalent(before.ToList(), after.ToList(),
            "the disk changed: " + string.Join(", ", after.Except(before).Concat(before.Except(after)).Select(e => e.Key).Take(10)));
        foreach (var (place, depth) in new[] { (Path.GetDirectoryName(site.Root)!, 3), (Path.GetTempPath(), 3), ("/", 1) })
        {
            var found = Find(place, marker, depth);
            Assert.IsNull(found, $"a forged path reached the disk: {found}");
        }

        // The real project is where it was, whole.
        await site.WaitForMirrorsAsync(project);
    }

    /// <summary>
    /// Every file, folder and link under <paramref name="root"/>, with its size or target; but the process logs, the
    /// primary's own storage, and the insides of mirrors (a backfill may still touch them): a forged name that reached
    /// those would be found by its marker.
    /// </summary>
    private static Dictionary<string, string> Snapshot(string root) =>
        new DirectoryInfo(root).EnumerateFileSystemInfos("*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 })
            .Where(e => Path.GetRelativePath(root, e.FullName) is var relative
                && !relative.StartsWith("logs", StringComparison.Ordinal) && !relative.StartsWith("primary-repos", StringComparison.Ordinal)
                && !relative.Split('/')[..^1].Any(segment => segment.EndsWith(".git", StringComparison.Ordinal)))
            .ToDictionary(
                e => Path.GetRelativePath(root, e.FullName),
                e => e.LinkTarget is { } target ? "-> " + target : e is FileInfo file ? file.Length.ToString(System.Globalization.CultureInfo.InvariantCulture) : "dir");

    private static string? Find(string folder, string marker, int depth)
    {
        try
        {
            foreach (var entry in Directory.EnumerateFileSystemEntries(folder))
            {
                if (Path.GetFileName(entry).Contains(marker, StringComparison.Ordinal))
                {
                    return entry;
                }

                if (depth > 1 && Directory.Exists(entry) && new DirectoryInfo(entry).LinkTarget is null && Find(entry, marker, depth - 1) is { } found)
                {
                    return found;
                }
            }
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            // A folder we may not read (under /proc, say) holds nothing of ours.
        }

        return null;
    }
}
