using Geo.Events.Core.Security;
using Microsoft.Extensions.Options;

namespace Geo.Events.Primary.Hooks;

/// <summary>
/// Checks <c>X-Gitlab-Token</c> against Primary:HookTokenSha256 (checked at start by <see cref="PrimaryOptions.Validator"/>)
/// in constant time; the token itself is never kept.
/// </summary>
public sealed class HookToken(IOptions<PrimaryOptions> options)
{
    private readonly string _expectedHash = options.Value.HookTokenSha256.Trim().ToLowerInvariant();

    public bool Matches(string presented) => Secrets.Matches(presented, _expectedHash);

    public static string Hash(string token) => Secrets.Hash(token);
}
