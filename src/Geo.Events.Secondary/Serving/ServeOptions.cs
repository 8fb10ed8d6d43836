using Geo.Events.Core.Configuration;
using Microsoft.Extensions.Options;

namespace Geo.Events.Secondary.Serving;

/// <summary>
/// Section <c>Secondary</c>, serving the mirrors at the site: git's smart HTTP on <see cref="ServeUrls"/> and, over
/// SSH, <c>geo-secondary git-shell</c>. Every access decision is the primary's (see README, "Cloning at a site").
/// </summary>
public sealed class ServeOptions
{
    public const string Section = SecondaryOptions.Section;

    /// <summary>
    /// Where git clients clone from over HTTP, e.g. <c>http://0.0.0.0:8080</c> (';'-separated; each with an explicit
    /// port; TLS is a reverse proxy's job). Empty: no git over HTTP. Only the git routes answer on these addresses.
    /// </summary>
    public string ServeUrls { get; set; } = "";

    /// <summary>
    /// GitLab's own URL, as users clone from it (e.g. <c>https://gitlab.example.com</c>): asked for every access
    /// decision (its git endpoint, and its internal API for SSH), named in refusals and the target of redirects.
    /// Empty: Secondary:PrimaryGitUrl when that is an http(s) URL.
    /// </summary>
    public string PrimaryCloneUrl { get; set; } = "";

    /// <summary>How long the primary's "yes" to a credential reading a repository is reused; 0 asks every time.</summary>
    public TimeSpan AuthCacheTtl { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>A mirror with an event received but not applied for longer than this is not served: the client goes to the primary.</summary>
    public TimeSpan ServeMaxLag { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long an access question to the primary may take before the primary counts as unreachable.</summary>
    public TimeSpan AuthTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// GitLab's <c>.gitlab_shell_secret</c> (a copy readable by the git-shell's account): signs the JWT that
    /// authenticates <c>geo-secondary git-shell</c> to the primary's internal API. Needed for SSH only.
    /// </summary>
    public string GitLabShellSecretFile { get; set; } = "";

    /// <summary>The primary's base URL for access decisions, redirects and messages, without a trailing '/'; null when none is usable.</summary>
    public string? PrimaryBase(string primaryGitUrl)
    {
        var configured = PrimaryCloneUrl.Length > 0 ? PrimaryCloneUrl : primaryGitUrl;
        return Uri.TryCreate(configured.TrimEnd('/'), UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" && uri.UserInfo.Length == 0
            ? configured.TrimEnd('/')
            : null;
    }

    /// <summary>The ports of <see cref="ServeUrls"/>; the git routes answer on these only.</summary>
    public IReadOnlyList<int> ServePorts() =>
        [.. ServeUrls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(url => Uri.TryCreate(url, UriKind.Absolute, out var uri) ? uri.Port : -1)];

    public IEnumerable<string> Problems(string primaryGitUrl)
    {
        if (AuthCacheTtl < TimeSpan.Zero)
        {
            yield return $"Secondary:AuthCacheTtl must not be negative, not {AuthCacheTtl}";
        }

        if (ServeMaxLag <= TimeSpan.Zero)
        {
            yield return $"Secondary:ServeMaxLag must be positive, not {ServeMaxLag}";
        }

        if (AuthTimeout <= TimeSpan.Zero)
        {
            yield return $"Secondary:AuthTimeout must be positive, not {AuthTimeout}";
        }

        if (PrimaryCloneUrl.Length > 0 && PrimaryBase(primaryGitUrl) is null)
        {
            yield return $"Secondary:PrimaryCloneUrl must be an http(s) URL without credentials, not '{PrimaryCloneUrl}'";
        }

        if (ServeUrls.Length == 0)
        {
            yield break;
        }

        foreach (var url in ServeUrls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme != "http" || uri.Port <= 0 || uri.AbsolutePath != "/")
            {
                yield return $"Secondary:ServeUrls: '{url}' must be http://<address>:<port> with an explicit port (TLS belongs to a reverse proxy)";
            }
        }

        if (PrimaryBase(primaryGitUrl) is null)
        {
            yield return "Secondary:ServeUrls needs the primary's http(s) URL to ask for access decisions: set Secondary:PrimaryCloneUrl (GEO_Secondary__PrimaryCloneUrl)";
        }
    }

    public sealed class Validator(IOptions<Repositories.MirrorOptions> mirrors) : IValidateOptions<ServeOptions>
    {
        public ValidateOptionsResult Validate(string? name, ServeOptions options) => GeoOptions.Result(options.Problems(mirrors.Value.PrimaryGitUrl));
    }
}
