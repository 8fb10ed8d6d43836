using System.Buffers.Binary;
using System.Text;
using Geo.Events.Core.Keys;

namespace Geo.Events.Tests.Keys;

/// <summary>Keys made by ssh-keygen (OpenSSH 9.2); fingerprints as `ssh-keygen -lf` prints them.</summary>
[TestClass]
public sealed class SshPublicKeyTests
{
    public const string Ed25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAZeD+GmfQ9mCiWKWQ5r3hI52QskNgxdUHcZdM5kDQk+ user@host";
    public const string Rsa = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC+2Q6K7Rfx02+XCdRZb90AA0A0w77Vv84vxqX402RNsiFQJxPf9KtewcH3kZYyna1ibgouNfRKf6XmMGyk2C5ZtK4Cb3mQK5RPu26AKhSDQTqpdq7Y619eTTjsdHUnO8oreMV3DQ9/JLQGjZsa3hMx+i8yBCAOIa2vGWgDjtp4lj5p3pJ70w3kSF076TzmS2a+uiHNljq6vgA/FTnByiHMwpbM++GtYN2TCkXPO7Q5586Oldke/r8RnsrLsxbje3ElEL5pAKrV2cQYwttDXzgMOvs7e8lvL9CedDI++2JfPQBaS6PEMbgodu34QNKUxkcnBr4ZXicU0beGG8XeNwlf user@host";
    public const string Dsa = "ssh-dss AAAAB3NzaC1kc3MAAACBAIpe1DTiMwNBxFR9FSOck+GkzcWPzRRgBntxju0HXuAkar/RPfmnzNXyL4223u8JW6QE8hbyPUbUws2Og1ERXP84xWbcDM55sWFB5+yj3ni8ICo8dMYKn7xvn7xWHmf9ppe4ZiA7pEp7/UG/ZtBgTV3oOhhyLGRDqzcxztfX6hYVAAAAFQCeIPuCJPW4Nslf4mwvPXjQIOKebQAAAIBtwcMeRBOTSL9oPykmeYmhvTmOM9I6DX2BMrZ+1Q1p285BP95p5pLrdYlgxZDKtyaZZSRRN1zXgIvnLOjBFLLvLc/HXpNV7KXqXL9m4vXeRErNWAp+RU+dogpWqxHLk2Q2vzj7lcMZ2KjwFFtA90NXyiU8UH1xyTW9udYJgPIaBAAAAIAgT8/IsOnmJmLMdlNwF2ouQgkKwbcxlFmMglFvZkY7YOH6Rmg0OiN5YPRfbhyVHXvJ2vzCohkQSj4XBXOT0kOZjIUoWWQtJz263tV3a09a7Re5e1AB2Iti5pb/gb9vNnDK5f/wYZp2scHxUn2jnBYO6AKeSdZjDgdqNmYhMO9M1Q== user@host";
    public const string Ecdsa256 = "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBGFcgeVnapqwKCFno21GrrksMfJyFzxqdS7/jRNXV1i36GcibocD/pU4xfk3Vj39RXxb3rnkHtbG9irbtEnJi7w= user@host";
    public const string Ecdsa384 = "ecdsa-sha2-nistp384 AAAAE2VjZHNhLXNoYTItbmlzdHAzODQAAAAIbmlzdHAzODQAAABhBCJnZ7fe5P06IumdrDkG8qeq8YJqI/US3BY7ph0rh+hWJhOYF2rQlXBMOZ5b6fUU42R3toCfag1zwUQiIpZp6NuNBmVBFM8LNwmVsQzkNm3prFxQXCbJr9Sojw6P0tkX5Q== user@host";
    public const string Ecdsa521 = "ecdsa-sha2-nistp521 AAAAE2VjZHNhLXNoYTItbmlzdHA1MjEAAAAIbmlzdHA1MjEAAACFBAHD3TmFq9j/on95K2Ff3R/TjfQrKN8P0oT8ZF19o0jgtXF3OmecwrpVHQFB5NBo87jWznn8pQxtxRQSB1Tzl/qtCQF8RWwh4bQ6C+ie7cDyBemdpsvsUQbsos1pNX2Lri6e8fcIgJqS699YZ46bKk5xoQ5HP0shDRd+h+7pkgTi/Pk9ng== user@host";

    [TestMethod]
    [DataRow(Ed25519, "SHA256:IixCxH7Gtu5QCWuJsVhr72RU2S79tvH1LThqAlA3BEM")]
    [DataRow(Rsa, "SHA256:OwRDvAvZCOSZm8Oqi6PeWy9X6RaIyCsfpjR/aj8c3kg")]
    [DataRow(Dsa, "SHA256:F/WXuNBSkiHQh46yZsA6azWX58EvN38oSUSZ1Glm4Jw")] // GitLab's dsa_key_restriction allows DSA by default
    [DataRow(Ecdsa256, "SHA256:l7pmGyqLb0a40k9Uk7mUNNlZKT6YONjTods9gIrvTUc")]
    [DataRow(Ecdsa384, "SHA256:oLzBTThj8bjTNEkBEiF870CD/PSduvgtH4Yse/dBKKI")]
    [DataRow(Ecdsa521, "SHA256:3Z2xlfqDrFBcQXPQBLlskAC8538M2ZseSMswszPOZOk")]
    public void RealKeysParseAndFingerprintLikeSshKeygen(string text, string fingerprint)
    {
        var key = SshPublicKey.Parse(text);
        Assert.AreEqual(text.Split(' ')[0], key.Type);
        Assert.AreEqual(text.Split(' ')[1], key.Base64);
        Assert.AreEqual(fingerprint, key.Fingerprint);
        Assert.AreEqual(string.Join(' ', text.Split(' ')[..2]), key.ToString(), "the comment is dropped");
    }

    [TestMethod]
    public void AnRsaKeyUnder1024BitsIsAcceptedAsGitLabAcceptsIt()
    {
        // GitLab's rsa_key_restriction defaults to no restriction; OpenSSH's ssh-keygen refuses to make one, so it is built here.
        var modulus = new byte[97];
        new Random(7).NextBytes(modulus);
        modulus[0] = 0;
        modulus[1] |= 0x80; // 768 bits, positive
        var text = "ssh-rsa " + Convert.ToBase64String(Blob(Encoding.ASCII.GetBytes("ssh-rsa"), [1, 0, 1], modulus));
        Assert.IsTrue(SshPublicKey.TryParse(text, out var key, out var problem), problem);
        Assert.AreEqual("ssh-rsa", key.Type);

        modulus[1] = 0x80; // the same bits with the sign bit set in the first byte: negative, still refused
        Assert.IsFalse(SshPublicKey.TryParse("ssh-rsa " + Convert.ToBase64String(Blob(Encoding.ASCII.GetBytes("ssh-rsa"), [1, 0, 1], modulus[1..])), out _, out _));
    }

    [TestMethod]
    public void SecurityKeyTypesParse()
    {
        var sk = Blob(Encoding.ASCII.GetBytes("sk-ssh-ed25519@openssh.com"), new byte[32], Encoding.ASCII.GetBytes("ssh:"));
        Assert.IsTrue(SshPublicKey.TryParse("sk-ssh-ed25519@openssh.com " + Convert.ToBase64String(sk), out _, out var problem), problem);

        // A point of the curve (OpenSSH refuses one that is not, and so do we).
        using var ec = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        var q = ec.ExportParameters(includePrivateParameters: false).Q;
        byte[] point = [4, .. q.X!, .. q.Y!];
        var ecdsaSk = Blob(Encoding.ASCII.GetBytes("sk-ecdsa-sha2-nistp256@openssh.com"), Encoding.ASCII.GetBytes("nistp256"), point, Encoding.ASCII.GetBytes("ssh:"));
        Assert.IsTrue(SshPublicKey.TryParse("sk-ecdsa-sha2-nistp256@openssh.com " + Convert.ToBase64String(ecdsaSk), out _, out problem), problem);

        var zero = new byte[65];
        zero[0] = 4;
        var offCurve = Blob(Encoding.ASCII.GetBytes("sk-ecdsa-sha2-nistp256@openssh.com"), Encoding.ASCII.GetBytes("nistp256"), zero, Encoding.ASCII.GetBytes("ssh:"));
        Assert.IsFalse(SshPublicKey.TryParse("sk-ecdsa-sha2-nistp256@openssh.com " + Convert.ToBase64String(offCurve), out _, out _), "(0, 0) is not a point of nistp256");
    }

    [TestMethod]
    [DataRow("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAZeD+GmfQ9mCiWKWQ5r3hI52QskNgxdUHcZdM5kDQk+ x\nssh-rsa AAAA", "control character")]
    [DataRow("ssh-ed25519\tAAAAC3NzaC1lZDI1NTE5AAAAIAZeD+GmfQ9mCiWKWQ5r3hI52QskNgxdUHcZdM5kDQk+", "control character")]
    [DataRow("command=\"/bin/sh\" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAZeD+GmfQ9mCiWKWQ5r3hI52QskNgxdUHcZdM5kDQk+", "options")]
    [DataRow("environment=\"LD_PRELOAD=/x\" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAZeD+GmfQ9mCiWKWQ5r3hI52QskNgxdUHcZdM5kDQk+", "options")]
    [DataRow("no-pty,permitopen=\"*:*\" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAZeD+GmfQ9mCiWKWQ5r3hI52QskNgxdUHcZdM5kDQk+", "options")]
    [DataRow("ssh-ed25519 \"AAAAC3NzaC1lZDI1NTE5AAAAIAZeD+GmfQ9mCiWKWQ5r3hI52QskNgxdUHcZdM5kDQk+", "base64")]
    [DataRow("ssh-dss AAAAB3NzaC1kc3MAAACBAP", "not valid base64")]
    [DataRow("ssh-dss AAAAB3NzaC1kc3MAAAABAQ==", "truncated or malformed")]
    [DataRow("ssh-ed25519", "no base64 body")]
    [DataRow("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAZeD+GmfQ9mCiWKWQ5r3hI52QskNgxd", "truncated")]
    [DataRow("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAZeD+GmfQ9mCiWKWQ5r3hI52QskNgxdUHcZdM5kDQk", "base64")]
    [DataRow("", "empty")]
    public void BadKeysAreRefusedWithAReason(string text, string reason)
    {
        Assert.IsFalse(SshPublicKey.TryParse(text, out _, out var problem), text);
        StringAssert.Contains(problem, reason);
    }

    [TestMethod]
    public void AnRsaBodyDeclaredAsEd25519IsRefused()
    {
        var rsaBody = Rsa.Split(' ')[1];
        Assert.IsFalse(SshPublicKey.TryParse("ssh-ed25519 " + rsaBody, out _, out var problem));
        StringAssert.Contains(problem, "its body is a 'ssh-rsa' key");
    }

    [TestMethod]
    public void TrailingBytesAreRefused()
    {
        var blob = Convert.FromBase64String(Ed25519.Split(' ')[1]).Concat(new byte[] { 0, 0, 0, 1, 65 }).ToArray();
        Assert.IsFalse(SshPublicKey.TryParse("ssh-ed25519 " + Convert.ToBase64String(blob), out _, out var problem));
        StringAssert.Contains(problem, "trailing");
    }

    [TestMethod]
    public void HundredKilobytesOfGarbageIsRefusedQuickly()
    {
        var garbage = "ssh-rsa " + new string('A', 100 * 1024);
        Assert.IsFalse(SshPublicKey.TryParse(garbage, out _, out var problem));
        StringAssert.Contains(problem, "longer than");
    }

    private static byte[] Blob(params byte[][] strings)
    {
        var output = new List<byte>();
        foreach (var s in strings)
        {
            var length = new byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(length, (uint)s.Length);
            output.AddRange(length);
            output.AddRange(s);
        }

        return output.ToArray();
    }
}
