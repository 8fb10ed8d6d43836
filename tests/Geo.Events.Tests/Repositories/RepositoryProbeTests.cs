using Geo.Events.Primary.Repositories;
using Geo.Events.Testing;

namespace Geo.Events.Tests.Repositories;

/// <summary>
/// The detector's cheap look at a repository (<see cref="RepositoryProbe.Fingerprint"/>): every change git makes to
/// refs, HEAD or the config moves it; nothing else does; a link is described, never followed.
/// </summary>
[TestClass]
public sealed class RepositoryProbeTests
{
    [TestMethod]
    public async Task EveryRefHeadAndConfigChangeMovesTheFingerprintAndLookingDoesNot()
    {
        var root = Directory.CreateTempSubdirectory("geo-probe-");
        try
        {
            var repo = await PrimaryRepository.CreateAsync(Path.Combine(root.FullName, "repos"), "group/project", Path.Combine(root.FullName, "work"));
            await repo.CommitAndPushAsync("first");
            string[]? folders = null;
            RepositoryProbe.Stat(repo.BarePath, ref folders);
            CollectionAssert.IsSubsetOf(new[] { "refs", "refs/heads", "refs/tags" }, folders);
            var fingerprint = Fingerprint();
            Assert.AreEqual(fingerprint, Fingerprint(), "looking changes nothing");
            Assert.AreEqual(0UL, RepositoryProbe.Fingerprint(repo.BarePath, folders!, recent: 0), "a time after 'recent' is racy");

            // Each of git's writes renames a lock file into a folder the fingerprint covers.
            var changes = new (string What, Func<Task> Change)[]
            {
                ("a push (loose ref)", async () => await repo.CommitAndPushAsync("second")),
                ("a new branch", () => Shell.RunAsync("git", repo.BarePath, "branch", "topic", "main")),
                ("packed refs", () => Shell.RunAsync("git", repo.BarePath, "pack-refs", "--all")),
                ("a branch deleted from packed-refs", () => Shell.RunAsync("git", repo.BarePath, "branch", "-D", "topic")),
                ("HEAD", () => Shell.RunAsync("git", repo.BarePath, "symbolic-ref", "HEAD", "refs/heads/other")),
                ("gitlab.fullpath", () => Shell.RunAsync("git", repo.BarePath, "config", "gitlab.fullpath", "moved/project")),
            };
            foreach (var (what, change) in changes)
            {
                await Task.Delay(50); // past the kernel's file-time tick, which the detector's racy rule covers
                await change();
                var moved = Fingerprint();
                Assert.AreNotEqual(fingerprint, moved, what);
                fingerprint = moved;
            }

            // A folder replaced by a symbolic link: described (a different fingerprint, IsLink), never followed.
            Assert.IsTrue(RepositoryProbe.Lstat(repo.BarePath, "refs/tags", out var tags) && !tags.IsLink);
            Directory.Delete(Path.Combine(repo.BarePath, "refs", "tags"));
            Directory.CreateSymbolicLink(Path.Combine(repo.BarePath, "refs", "tags"), Path.Combine(repo.BarePath, "refs", "heads"));
            Assert.IsTrue(RepositoryProbe.Lstat(repo.BarePath, "refs/tags", out tags) && tags.IsLink);
            Assert.AreNotEqual(fingerprint, Fingerprint());
            Assert.IsFalse(RepositoryProbe.Lstat(repo.BarePath, "refs/none", out _));

            ulong Fingerprint() => RepositoryProbe.Fingerprint(repo.BarePath, folders!, long.MaxValue);
        }
        finally
        {
            root.Delete(recursive: true);
        }
    }
}
