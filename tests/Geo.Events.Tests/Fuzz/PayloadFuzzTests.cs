using System.Collections.Concurrent;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using CsCheck;
using Geo.Events.Contracts;
using Geo.Events.Primary.Hooks;
using Geo.Events.Secondary.Keys;

namespace Geo.Events.Tests.Fuzz;

/// <summary>
/// A property-based fuzz of what geo-primary does with a body: parse, validate, map. Payloads start as a valid
/// payload of one replicated kind and are then mutated (<see cref="HookPayloads"/>). The properties: nothing but
/// JsonException escapes, and whatever is accepted passes an oracle that does not use the validator's rules: its
/// paths joined under a root stay under it unchanged, they are plain printable ASCII, and the authorized_keys
/// line the secondary would write for a key is one that OpenSSH itself (<c>ssh-keygen -l</c>) reads, with the
/// fingerprint we carry. Every kind must be both accepted and rejected many times, or the fuzz proves nothing.
/// <para>
/// Runs for GEO_FUZZ_SECONDS (default 5, <c>make soak</c> 600), up to twice more if a kind is still thin. A failure prints CsCheck's seed; replay exactly
/// that case, alone, with <c>CsCheck_Seed=&lt;seed&gt; dotnet test tests/Geo.Events.Tests -c Release --no-build --filter
/// "FullyQualifiedName~PayloadFuzzTests"</c>. The failing payload is printed too (kind, mutations, JSON).
/// </para>
/// </summary>
[TestClass]
public sealed class PayloadFuzzTests
{
    /// <summary>Per kind, in the default run: enough that each kind's accepting and rejecting sides are both exercised.</summary>
    private const int MinimumPerKind = 50;

    /// <summary>One accepted key in this many has its line read by ssh-keygen (chosen by the line's hash, so a replay picks the same).</summary>
    private const int SshKeygenOneIn = 8;

    private const string ShellCommand = "/opt/gitlab/embedded/service/gitlab-shell/bin/gitlab-shell";

    private static readonly string Root = Path.Combine(Path.GetTempPath(), "geo-fuzz-root");

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void WhatIsAcceptedIsSafeAndNothingElseEscapes()
    {
        var seconds = int.TryParse(Environment.GetEnvironmentVariable("GEO_FUZZ_SECONDS"), out var s) ? s : 5;
        var validator = new SystemHookValidator();
        var accepted = new ConcurrentDictionary<string, int>();
        var rejected = new ConcurrentDictionary<string, int>();
        var keysRead = 0;
        using var scratch = new Scratch();

        // CsCheck_Seed=<seed> replays the one case a failure printed, and nothing else.
        var replay = !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CsCheck_Seed"));
        if (replay)
        {
            Round();
            return;
        }

        // A slow machine may not reach every kind often enough in one round: it gets up to two more.
        IEnumerable<string> Thin() =>
            HookPayloads.Kinds.Where(k => accepted.GetValueOrDefault(k) < MinimumPerKind || rejected.GetValueOrDefault(k) < MinimumPerKind);
        var rounds = 0;
        do
        {
            rounds++;
            Round();
        }
        while (rounds < 3 && Thin().Any());

        var table = string.Join("\n", HookPayloads.Kinds.Select(k => $"  {k,-20} accepted {accepted.GetValueOrDefault(k),7}  rejected {rejected.GetValueOrDefault(k),7}"));
        TestContext.WriteLine($"fuzz: {rounds} x {seconds} s, {accepted.Values.Sum() + rejected.Values.Sum()} payloads, {keysRead} key lines read by ssh-keygen\n{table}");

        // The properties are only worth something if every kind reaches both sides of the validator.
        var thin = Thin().ToList();
        Assert.AreEqual(0, thin.Count, $"kinds accepted or rejected fewer than {MinimumPerKind} times: {string.Join(", ", thin)}\n{table}");
        Assert.IsTrue(keysRead >= 10, "ssh-keygen read too few key lines for its oracle to mean anything");

        void Round() => HookPayloads.Gen.Sample(@case =>
        {
            SystemHookPayload? payload;
            try
            {
                payload = JsonSerializer.Deserialize<SystemHookPayload>(@case.Json, SystemHookPayload.JsonOptions);
            }
            catch (JsonException)
            {
                payload = null; // a 400 at ingest
            }

            if (payload?.Kind is not { } kind || !HookKinds.Replicated.ContainsKey(kind) || !validator.Validate(payload).IsValid)
            {
                rejected.AddOrUpdate(@case.Kind, 1, (_, n) => n + 1);
                return;
            }

            accepted.AddOrUpdate(kind, 1, (_, n) => n + 1);
            if (Check(HookKinds.Map(payload, Guid.NewGuid(), DateTimeOffset.UtcNow), scratch))
            {
                Interlocked.Increment(ref keysRead);
            }
        }, iter: replay ? 1 : 100, time: replay ? -1 : seconds, print: c => c.ToString());
    }

    /// <summary>The oracle for one accepted payload's event; returns true when ssh-keygen read its key line.</summary>
    private static bool Check(IGeoEvent evt, Scratch scratch)
    {
        switch (evt)
        {
            case RepositoryChanged e:
                Assert.IsTrue(e.ProjectId > 0, $"project id {e.ProjectId}");
                UnderRoot(e.PathWithNamespace + (e.Kind == RepositoryKind.Wiki ? ".wiki.git" : ".git"));
                foreach (var change in e.Changes)
                {
                    // git allows non-ASCII in ref names (a branch may be called 'café'), but no ASCII control or space.
                    Assert.IsTrue(change.Ref.StartsWith("refs/", StringComparison.Ordinal) && !change.Ref.Any(c => c <= ' ' || c == '\x7f'), $"ref {JsonSerializer.Serialize(change.Ref)}");
                    ObjectId(change.Before);
                    ObjectId(change.After);
                }

                return false;
            case ProjectRenamed e:
                UnderRoot(e.PathWithNamespace + ".git");
                UnderRoot(e.OldPathWithNamespace + ".git");
                return false;
            case ProjectDestroyed e:
                UnderRoot(e.PathWithNamespace + ".git");
                return false;
            case NamespaceRenamed e:
                UnderRoot(e.FullPath);
                UnderRoot(e.OldFullPath);
                return false;
            case GroupDestroyed e:
                UnderRoot(e.FullPath);
                return false;
            case FileCreated e:
                UnderRoot(e.Path);
                Assert.IsTrue(e.Size >= 0, $"size {e.Size}");
                Assert.IsTrue(e.Sha256.Length == 64 && Convert.FromHexString(e.Sha256).Length == 32 && e.Sha256 == e.Sha256.ToLowerInvariant(), e.Sha256);
                return false;
            case FileDestroyed e:
                UnderRoot(e.Path);
                return false;
            case SshKeyCreated e:
                Assert.IsTrue(e.KeyId > 0, $"key id {e.KeyId}");
                Assert.IsTrue(e.Username.Length == 0 || Plain(e.Username, spaces: false), $"username {JsonSerializer.Serialize(e.Username)}");
                return KeyLine(e, scratch);
            case SshKeyDestroyed e:
                Assert.IsTrue(e.KeyId > 0, $"key id {e.KeyId}");
                Assert.IsTrue(e.Username.Length == 0 || Plain(e.Username, spaces: false), $"username {JsonSerializer.Serialize(e.Username)}");
                return false;
            default:
                throw new AssertFailedException($"an accepted payload mapped to {evt.GetType().Name}, which the oracle does not know");
        }
    }

    /// <summary>Printable ASCII: no control character, nothing beyond '~' (no look-alike, no bidi override).</summary>
    private static bool Plain(string text, bool spaces) => text.All(c => c is >= '!' and <= '~' || (spaces && c == ' '));

    /// <summary>Joined to a root the way a secondary joins it, the path must land under the root, and exactly where its text says.</summary>
    private static void UnderRoot(string relative)
    {
        Assert.IsTrue(Plain(relative, spaces: false), $"path {JsonSerializer.Serialize(relative)} is not plain printable ASCII");
        var full = Path.GetFullPath(Path.Combine(Root, relative));
        Assert.IsTrue(full.StartsWith(Root + "/", StringComparison.Ordinal), $"path {relative} resolves to {full}, outside {Root}");
        Assert.AreEqual(Root + "/" + relative, full, $"path {relative} does not resolve to itself (a '.', '..' or empty segment)");
    }

    private static void ObjectId(string id) =>
        Assert.IsTrue(id is { Length: 40 or 64 } && id == id.ToLowerInvariant() && Convert.FromHexString(id).Length is 20 or 32, $"object id {id}");

    /// <summary>The line the secondary writes for the key, read back by OpenSSH: it must parse and have our fingerprint.</summary>
    private static bool KeyLine(SshKeyCreated e, Scratch scratch)
    {
        var line = AuthorizedKeysFile.Line(ShellCommand, e.KeyId, e.KeyType, e.KeyBlob);
        Assert.IsTrue(Plain(line, spaces: true), $"authorized_keys line is not one line of printable ASCII: {line}");
        if (SHA256.HashData(Encoding.ASCII.GetBytes(line))[0] % SshKeygenOneIn != 0 || RsaBits(e) is < 1024)
        {
            // An RSA modulus under 1024 bits is accepted as GitLab accepts it, and ssh-keygen refuses it by design
            // (OpenSshAgreementTests): the line is checked above, the key's fingerprint below, without ssh-keygen.
            Assert.AreEqual("SHA256:" + Convert.ToBase64String(SHA256.HashData(Convert.FromBase64String(e.KeyBlob))).TrimEnd('='), e.Fingerprint);
            return false;
        }

        var file = scratch.File();
        System.IO.File.WriteAllText(file, line + "\n");
        using var process = Process.Start(new ProcessStartInfo("ssh-keygen", ["-l", "-f", file])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var output = process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        System.IO.File.Delete(file);
        Assert.AreEqual(0, process.ExitCode, $"ssh-keygen refused the line we would write: {error.Trim()}\n{line}");
        StringAssert.Contains(output, " " + e.Fingerprint + " ", $"ssh-keygen's fingerprint differs from the event's\n{line}");
        return true;
    }

    /// <summary>The modulus size of an RSA key (its blob: type, e, n as SSH strings); null for other types.</summary>
    private static int? RsaBits(SshKeyCreated e)
    {
        if (e.KeyType != "ssh-rsa")
        {
            return null;
        }

        var blob = Convert.FromBase64String(e.KeyBlob).AsSpan();
        for (var field = 0; field < 2; field++)
        {
            blob = blob[(4 + (int)System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(blob))..];
        }

        var n = blob.Slice(4, (int)System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(blob)).TrimStart((byte)0);
        return n.IsEmpty ? 0 : ((n.Length - 1) * 8) + (32 - System.Numerics.BitOperations.LeadingZeroCount(n[0]));
    }

    /// <summary>A private folder for the lines ssh-keygen reads, removed at the end.</summary>
    private sealed class Scratch : IDisposable
    {
        private readonly string _folder = Directory.CreateTempSubdirectory("geo-fuzz-").FullName;

        public string File() => Path.Combine(_folder, Guid.NewGuid().ToString("N"));

        public void Dispose() => Directory.Delete(_folder, recursive: true);
    }
}
