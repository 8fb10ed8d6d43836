using Geo.Events.Core.Repositories;
using Geo.Events.Testing;

namespace Geo.Events.Tests.Repositories;

/// <summary>The refs checksum on real repositories made with the git CLI.</summary>
[TestClass]
public sealed class RefsChecksumTests
{
    [TestMethod]
    public async Task AMirrorCloneHasThePrimarysChecksumAndAnyRefChangeAltersIt()
    {
        var root = Directory.CreateTempSubdirectory("geo-checksum-");
        try
        {
            var repo = await PrimaryRepository.CreateAsync(Path.Combine(root.FullName, "repos"), "group/project", Path.Combine(root.FullName, "work"));
            Assert.AreEqual(RefsChecksum.Compute(repo.BarePath), RefsChecksum.Compute(repo.BarePath), "the checksum is deterministic");
            var empty = RefsChecksum.Compute(repo.BarePath);
            StringAssert.StartsWith(empty, "v1:");

            await repo.CommitAsync("first");
            await repo.GitAsync("tag", "-a", "v1", "-m", "one");
            await repo.GitAsync("push", "-q", "origin", "main", "v1");
            var pushed = RefsChecksum.Compute(repo.BarePath);
            Assert.AreNotEqual(empty, pushed);

            var mirror = Path.Combine(root.FullName, "mirror.git");
            await Shell.RunAsync("git", root.FullName, "clone", "-q", "--mirror", repo.BarePath, mirror);
            Assert.AreEqual(pushed, RefsChecksum.Compute(mirror), "a mirror with the same refs has the same checksum");

            await Shell.RunAsync("git", mirror, "update-ref", "refs/heads/extra", "HEAD");
            Assert.AreNotEqual(pushed, RefsChecksum.Compute(mirror), "an extra branch changes it");
            await Shell.RunAsync("git", mirror, "update-ref", "-d", "refs/heads/extra");
            Assert.AreEqual(pushed, RefsChecksum.Compute(mirror));

            await Shell.RunAsync("git", mirror, "symbolic-ref", "HEAD", "refs/heads/other");
            Assert.AreEqual(pushed, RefsChecksum.Compute(mirror), "HEAD is not part of it");
        }
        finally
        {
            foreach (var file in Directory.EnumerateFiles(root.FullName, "*", SearchOption.AllDirectories))
            {
                File.SetAttributes(file, FileAttributes.Normal);
            }

            root.Delete(recursive: true);
        }
    }
}
