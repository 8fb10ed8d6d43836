using System.Security.Cryptography;
using System.Text;
using Geo.Events.Core.Security;
using Microsoft.Extensions.Options;

namespace Geo.Events.Primary.Hooks;

/// <summary>Checks <c>X-Gitlab-Token</c> against the configured SHA-256 in constant time; the token itself is never kept.</summary>
public sealed class HookToken
{
    private readonly string _expectedHash;

    public HookToken(IOptions<PrimaryOptions> options)
    {
        var hex = options.Value.HookTokenSha256.Trim();
        if (hex.Length != 64 || !hex.All(Uri.IsHexDigit))
        {
            throw new InvalidOperationException(
                "Primary:HookTokenSha256 must be the 64-character hex SHA-256 of the hook secret token " +
                "(set GEO_Primary__HookTokenSha256; compute it with: printf %s \"$TOKEN\" | sha256sum)");
        }

        _expectedHash = hex.ToLowerInvariant();
    }

    public bool Matches(string presented) => Secrets.Matches(presented, _expectedHash);

    public static string Hash(string token) => Secrets.Hash(token);
}
