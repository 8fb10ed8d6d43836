namespace Geo.Events.Testing;

public static class TestKeys
{
    /// <summary>A valid ed25519 public key with random bytes: cheap, and distinct per key.</summary>
    public static string RandomEd25519()
    {
        var blob = new byte[4 + 11 + 4 + 32];
        blob[3] = 11;
        "ssh-ed25519"u8.CopyTo(blob.AsSpan(4));
        blob[18] = 32;
        Random.Shared.NextBytes(blob.AsSpan(19));
        return "ssh-ed25519 " + Convert.ToBase64String(blob);
    }
}
