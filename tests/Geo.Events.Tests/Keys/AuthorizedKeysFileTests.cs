using Geo.Events.Secondary.Keys;

namespace Geo.Events.Tests.Keys;

/// <summary>The file format and the rewrite, on a real file system in a temp folder.</summary>
[TestClass]
public sealed class AuthorizedKeysFileTests
{
    private const string Shell = "/opt/gitlab/embedded/service/gitlab-shell/bin/gitlab-shell";

    private static async IAsyncEnumerable<KeyRegistry.LiveKey> Keys(params (long Id, string Text)[] keys)
    {
        foreach (var (id, text) in keys)
        {
            var parts = text.Split(' ');
            yield return new KeyRegistry.LiveKey(id, parts[0], parts[1]);
        }

        await Task.CompletedTask;
    }

    [TestMethod]
    public void TheLineIsGitLabShellsFormat()
    {
        var parts = SshPublicKeyTests.Ed25519.Split(' ');
        Assert.AreEqual(
            $"command=\"{Shell} key-12\",no-port-forwarding,no-X11-forwarding,no-agent-forwarding,no-pty ssh-ed25519 {parts[1]}",
            AuthorizedKeysFile.Line(Shell, 12, parts[0], parts[1]));
    }

    [TestMethod]
    public async Task ARewriteReplacesOurLinesKeepsForeignOnesAndLeavesNoTempFile()
    {
        var folder = Directory.CreateTempSubdirectory("geo-keys-").FullName;
        try
        {
            var path = Path.Combine(folder, "authorized_keys");
            var foreign = new[]
            {
                "# added by hand",
                "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAZeD+GmfQ9mCiWKWQ5r3hI52QskNgxdUHcZdM5kDQk+ admin@backup",
                $"command=\"/other/tool key-3\",no-pty {SshPublicKeyTests.Rsa}",
            };
            await File.WriteAllLinesAsync(path, [foreign[0], AuthorizedKeysFile.Line(Shell, 1, "ssh-rsa", "old"), foreign[1], foreign[2]]);
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);

            var file = new AuthorizedKeysFile(path, Shell, TimeSpan.FromSeconds(5));
            var written = await file.RewriteAsync(Keys((2, SshPublicKeyTests.Ed25519), (5, SshPublicKeyTests.Rsa)), CancellationToken.None);

            Assert.AreEqual(2, written);
            var lines = await File.ReadAllLinesAsync(path);
            CollectionAssert.AreEqual(
                foreign.Concat([
                    AuthorizedKeysFile.Line(Shell, 2, "ssh-ed25519", SshPublicKeyTests.Ed25519.Split(' ')[1]),
                    AuthorizedKeysFile.Line(Shell, 5, "ssh-rsa", SshPublicKeyTests.Rsa.Split(' ')[1]),
                ]).ToArray(),
                lines);
            Assert.AreEqual(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead, File.GetUnixFileMode(path), "the file's mode is kept");
            CollectionAssert.AreEquivalent(new[] { "authorized_keys", "authorized_keys.lock" }, Directory.GetFiles(folder).Select(Path.GetFileName).ToArray());
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [TestMethod]
    public async Task LinesAnotherWriterAddsOrRemovesBetweenTwoRewritesAreFollowed()
    {
        var folder = Directory.CreateTempSubdirectory("geo-keys-").FullName;
        try
        {
            var path = Path.Combine(folder, "authorized_keys");
            await File.WriteAllLinesAsync(path, ["# first foreign line"]);
            var file = new AuthorizedKeysFile(path, Shell, TimeSpan.FromSeconds(5));
            var ours = AuthorizedKeysFile.Line(Shell, 2, "ssh-ed25519", SshPublicKeyTests.Ed25519.Split(' ')[1]);
            await file.RewriteAsync(Keys((2, SshPublicKeyTests.Ed25519)), CancellationToken.None);

            // GitLab's own writer appends to the file in place (Gitlab::AuthorizedKeys#add_key).
            const string appended = "# appended by another writer";
            await File.AppendAllLinesAsync(path, [appended]);
            await file.RewriteAsync(Keys((2, SshPublicKeyTests.Ed25519)), CancellationToken.None);
            CollectionAssert.AreEqual(new[] { "# first foreign line", appended, ours }, await File.ReadAllLinesAsync(path), "a line appended since the last rewrite was lost");

            // Another writer replaces the file with one of the same size, by rename, as GitLab's remove_key does.
            const string replaced = "# replaced by another writer";
            Assert.AreEqual(appended.Length, replaced.Length);
            var other = Path.Combine(folder, "other");
            await File.WriteAllLinesAsync(other, ["# first foreign line", replaced, ours]);
            File.Move(other, path, overwrite: true);
            await file.RewriteAsync(Keys((2, SshPublicKeyTests.Ed25519)), CancellationToken.None);
            CollectionAssert.AreEqual(new[] { "# first foreign line", replaced, ours }, await File.ReadAllLinesAsync(path), "the replaced file's own lines were not kept");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [TestMethod]
    public async Task ARewriteRemovesTheTempFileOfAWriterKilledMidRewrite()
    {
        var folder = Directory.CreateTempSubdirectory("geo-keys-").FullName;
        try
        {
            var path = Path.Combine(folder, "authorized_keys");
            var abandoned = Path.Combine(folder, $".authorized_keys.{Guid.NewGuid():N}.tmp");
            var someoneElses = Path.Combine(folder, ".other.tmp");
            await File.WriteAllTextAsync(abandoned, "command=\"half a li");
            await File.WriteAllTextAsync(someoneElses, "not ours");

            await new AuthorizedKeysFile(path, Shell, TimeSpan.FromSeconds(5)).RewriteAsync(Keys((2, SshPublicKeyTests.Ed25519)), CancellationToken.None);

            Assert.IsFalse(File.Exists(abandoned), "the killed writer's temp file is still there");
            Assert.IsTrue(File.Exists(someoneElses), "a file that is not our temp file was removed");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [TestMethod]
    public async Task ARewriteWaitsForAnotherWritersLock()
    {
        var folder = Directory.CreateTempSubdirectory("geo-keys-").FullName;
        try
        {
            var path = Path.Combine(folder, "authorized_keys");
            var file = new AuthorizedKeysFile(path, Shell, TimeSpan.FromSeconds(10));
            Task<int> rewrite;
            using (new FileStream(path + ".lock", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None))
            {
                rewrite = file.RewriteAsync(Keys((1, SshPublicKeyTests.Ed25519)), CancellationToken.None);
                await Task.Delay(300);
                Assert.IsFalse(rewrite.IsCompleted, "the rewrite ran while another writer held authorized_keys.lock");
                Assert.IsFalse(File.Exists(path));
            }

            Assert.AreEqual(1, await rewrite);
            Assert.AreEqual(1, (await File.ReadAllLinesAsync(path)).Length);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [TestMethod]
    [DataRow("relative/gitlab-shell")]
    [DataRow("/opt/gitlab-shell $(id)")]
    [DataRow("/opt/gitlab-shell  two-spaces")]
    [DataRow("/opt/x\",command=\"/bin/sh")]
    public void AShellCommandThatCouldBreakTheQuoteIsRefused(string shell)
    {
        var result = new KeysOptions.Validator().Validate(null, new KeysOptions { ShellCommand = shell });
        Assert.IsTrue(result.Failed);
        StringAssert.Contains(result.FailureMessage, "Keys:ShellCommand");
    }

    [TestMethod]
    public void AShellCommandMayNameAVerbOfItsOwn()
    {
        var options = new KeysOptions { ShellCommand = "/usr/local/bin/geo-secondary git-shell" };
        Assert.IsFalse(new KeysOptions.Validator().Validate(null, options).Failed);
        Assert.AreEqual(
            "command=\"/usr/local/bin/geo-secondary git-shell key-7\",no-port-forwarding,no-X11-forwarding,no-agent-forwarding,no-pty ssh-ed25519 AAAA",
            AuthorizedKeysFile.Line(options.ShellCommand, 7, "ssh-ed25519", "AAAA"));
        Assert.IsTrue(new AuthorizedKeysFile("/tmp/x", options.ShellCommand, TimeSpan.Zero).IsManaged(AuthorizedKeysFile.Line(options.ShellCommand, 7, "ssh-ed25519", "AAAA")));
    }
}
