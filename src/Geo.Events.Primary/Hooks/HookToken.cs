using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace Geo.Events.Primary.Hooks;

/// <summary>Checks <c>X-Gitlab-Token</c> against the configured SHA-256 in constant time; the token itself is never kept.</summary>
public sealed class HookToken
{
    private readonly byte[] _expectedHash;

    public HookToken(IOptions<PrimaryOptions> options)
    {
        var hex = options.Value.HookTokenSha256.Trim();
        if (hex.Length != 64 || !hex.All(Uri.IsHexDigit))
        {
            throw new InvalidOperationException(
                "Primary:HookTokenSha256 must be the 64-character hex SHA-256 of the hook secret token " +
                "(set GEO_Primary__HookTokenSha256; compute it with: printf %s \"$TOKEN\" | sha256sum)");
        }

        _expectedHash = Convert.FromHexString(hex);
    }

    public bool Matches(string presented)
    {
        // Hashing first makes the comparison length-independent; FixedTimeEquals makes it time-independent.
        var presentedHash = SHA256.HashData(Encoding.UTF8.GetBytes(presented));
        return CryptographicOperations.FixedTimeEquals(presentedHash, _expectedHash);
    }

    public static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));
}
