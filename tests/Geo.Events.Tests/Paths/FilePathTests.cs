using Geo.Events.Core.Paths;

namespace Geo.Events.Tests.Paths;

[TestClass]
public sealed class FilePathTests
{
    [TestMethod]
    [DataRow("@hashed/6b/86/6b86b273ff34fce19d6b804eff5a3f5747ada4eaa22f1d49c01e52ddb7875b4b/0123abcd/report.pdf")]
    [DataRow("ab/cd/0123456789abcdef0123456789abcdef0123456789abcdef01234567")]
    [DataRow("user/avatar/1/avatar.png")]
    [DataRow("a/b+c=d_e-f.tar.gz")]
    public void GitLabsStoragePathsAreAccepted(string path) => Assert.IsNull(FilePath.Problem(path));

    [TestMethod]
    [DataRow("", "empty")]
    [DataRow("../x", "'..'")]
    [DataRow("a/../../x", "'..'")]
    [DataRow("a/./x", "'.'")]
    [DataRow("/etc/passwd", "relative")]
    [DataRow("a\\..\\x", "backslash")]
    [DataRow("a/\u0000x", "control")]
    [DataRow("a/b\nc", "control")]
    [DataRow("a//b", "''")]
    [DataRow("a/", "''")]
    [DataRow(".ssh/authorized_keys", "must not start with '.'")]
    [DataRow("a/%2e%2e/b", "may only hold")]
    [DataRow("a/\u2024\u2024/b", "may only hold")] // one-dot leaders, a look-alike of ".."
    [DataRow("a/ｆｉｌｅ", "may only hold")]
    [DataRow("a/b c", "may only hold")]
    public void UnsafePathsAreRefusedWithAReason(string path, string reason) => StringAssert.Contains(FilePath.Problem(path), reason);

    [TestMethod]
    public void OverLongPathsAreRefused()
    {
        StringAssert.Contains(FilePath.Problem(new string('a', 256)), "longer than 255");
        StringAssert.Contains(FilePath.Problem(string.Join('/', Enumerable.Repeat("a", 33))), "more than 32 segments");
        StringAssert.Contains(FilePath.Problem(string.Join('/', Enumerable.Repeat(new string('a', 200), 21))), "longer than 4096");
    }

    [TestMethod]
    public void ResolvingRefusesALinkOnTheWayOut()
    {
        var root = Directory.CreateTempSubdirectory("geo-files-");
        var outside = Directory.CreateTempSubdirectory("geo-outside-");
        try
        {
            Directory.CreateSymbolicLink(Path.Combine(root.FullName, "escape"), outside.FullName);
            File.WriteAllText(Path.Combine(outside.FullName, "secret"), "x");
            var e = Assert.ThrowsExactly<InvalidFilePathException>(() => FilePath.ResolveUnder(root.FullName, "escape/secret"));
            StringAssert.Contains(e.Reason, "symbolic link");
            Assert.AreEqual(Path.Combine(root.FullName, "a", "b.bin"), FilePath.ResolveUnder(root.FullName, "a/b.bin"));
        }
        finally
        {
            root.Delete(recursive: true);
            outside.Delete(recursive: true);
        }
    }
}
