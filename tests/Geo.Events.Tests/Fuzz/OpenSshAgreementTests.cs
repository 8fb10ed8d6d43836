using System.Diagnostics;
using Geo.Events.Core.Keys;

namespace Geo.Events.Tests.Fuzz;

/// <summary>Keys the fuzz found that a wire-format parse accepts and OpenSSH refuses: SshPublicKey refuses them too.</summary>
[TestClass]
public sealed class OpenSshAgreementTests
{
    /// <summary>
    /// Keys the fuzz's OpenSSH oracle found that SshPublicKey accepts and <c>ssh-keygen -l</c> refuses
    /// (<see cref="HookPayloads.KeysOpenSshRefuses"/>). sshd would skip such a line, and the architecture says a
    /// key must parse before it is replicated.
    /// </summary>
    [TestMethod]
    public void KeysOpenSshRefusesAreRefusedAtIngest()
    {
        var folder = Directory.CreateTempSubdirectory("geo-keygap-").FullName;
        try
        {
            foreach (var (name, make) in HookPayloads.KeysOpenSshRefuses)
            {
                var key = make(new Random(1));
                var file = Path.Combine(folder, "key.pub");
                File.WriteAllText(file, key + "\n");
                using var process = Process.Start(new ProcessStartInfo("ssh-keygen", ["-l", "-f", file]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
                process.WaitForExit();
                Assert.AreNotEqual(0, process.ExitCode, $"{name}: ssh-keygen now accepts it; the case is wrong");
                Assert.IsFalse(SshPublicKey.TryParse(key, out _, out _), $"{name}: SshPublicKey accepts a key OpenSSH refuses: {key}");
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>
    /// The deliberate departure: keys GitLab accepts by default that OpenSSH refuses (an RSA modulus under 1024 bits) are
    /// accepted, so that a secondary lets in whoever the primary lets in; sshd then decides.
    /// </summary>
    [TestMethod]
    public void KeysGitLabAcceptsAreAcceptedEvenWhereOpenSshRefusesThem()
    {
        var folder = Directory.CreateTempSubdirectory("geo-keygap-").FullName;
        try
        {
            foreach (var (name, make) in HookPayloads.KeysGitLabAcceptsOpenSshRefuses)
            {
                var key = make(new Random(1));
                var file = Path.Combine(folder, "key.pub");
                File.WriteAllText(file, key + "\n");
                using var process = Process.Start(new ProcessStartInfo("ssh-keygen", ["-l", "-f", file]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
                process.WaitForExit();
                Assert.AreNotEqual(0, process.ExitCode, $"{name}: ssh-keygen now accepts it; move it to the keys both accept");
                Assert.IsTrue(SshPublicKey.TryParse(key, out _, out var problem), $"{name}: SshPublicKey refuses a key GitLab accepts: {problem}");
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
