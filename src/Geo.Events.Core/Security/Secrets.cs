using System.Security.Cryptography;
using System.Text;

namespace Geo.Events.Core.Security;

/// <summary>How every token is made, stored and compared: random, kept only as SHA-256, compared in constant time.</summary>
public static class Secrets
{
    /// <summary>A new access token: 256 random bits, URL-safe, with a prefix that makes it recognisable in a leak scan.</summary>
    public static string NewToken() =>
        "geo_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>The lowercase hex SHA-256 of a token, which is all that is ever stored or configured.</summary>
    public static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    /// <summary>
    /// True when <paramref name="presented"/> hashes to <paramref name="expectedSha256Hex"/>. Hashing first makes the
    /// comparison length-independent; FixedTimeEquals makes it time-independent. A missing or malformed
    /// expectation still costs a comparison and never matches.
    /// </summary>
    public static bool Matches(string presented, string? expectedSha256Hex)
    {
        var presentedHash = SHA256.HashData(Encoding.UTF8.GetBytes(presented));
        var valid = expectedSha256Hex is { Length: 64 } && expectedSha256Hex.All(Uri.IsHexDigit);
        var expected = valid ? Convert.FromHexString(expectedSha256Hex!) : new byte[32];
        return CryptographicOperations.FixedTimeEquals(presentedHash, expected) && valid;
    }
}
