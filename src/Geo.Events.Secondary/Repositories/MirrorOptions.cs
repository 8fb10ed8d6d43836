using Geo.Events.Core.Configuration;
using Microsoft.Extensions.Options;

namespace Geo.Events.Secondary.Repositories;

/// <summary>Section <c>Secondary</c>, the mirrors: where they are kept and how they reach the primary's git server.</summary>
public sealed class MirrorOptions
{
    /// <summary>Shared with the section's other areas (<see cref="SecondaryOptions"/>): the keys are <c>Secondary:MirrorRoot</c> etc.</summary>
    public const string Section = SecondaryOptions.Section;

    /// <summary>
    /// Folder of the bare mirrors: stored by project id under <c>@hashed/</c>, each reached by a link at
    /// <c>&lt;root&gt;/group/project.git</c> (see <see cref="MirrorLayout"/>).
    /// </summary>
    public string MirrorRoot { get; set; } = "";

    /// <summary>
    /// Base URL of the primary's repositories; a mirror's remote is this plus the validated project path plus
    /// <c>.git</c>. An absolute folder, <c>file://</c>, <c>http(s)://</c> or <c>ssh://</c>.
    /// </summary>
    public string PrimaryGitUrl { get; set; } = "";

    /// <summary>For HTTP(S) remotes: user name and password or token (e.g. a GitLab admin's personal access token).</summary>
    public string? GitUsername { get; set; }

    public string? GitPassword { get; set; }

    /// <summary>How long connecting to the primary's git server may take before the fetch fails and is retried.</summary>
    public TimeSpan GitConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// A fetch whose connection receives (or accepts) nothing for this long fails and is retried, releasing its
    /// fetch slot: a stalled primary cannot wedge the secondary. Each read and write is bounded, not the whole
    /// fetch, so a large clone that keeps receiving is never cut off.
    /// </summary>
    public TimeSpan GitTimeout { get; set; } = TimeSpan.FromSeconds(60);

    public sealed class Validator : IValidateOptions<MirrorOptions>
    {
        // libgit2 takes its timeouts as an int of milliseconds.
        private static readonly TimeSpan MaxGitTimeout = TimeSpan.FromMilliseconds(int.MaxValue);

        public ValidateOptionsResult Validate(string? name, MirrorOptions options) => GeoOptions.Result(Problems(options));

        private static IEnumerable<string> Problems(MirrorOptions options)
        {
            if (string.IsNullOrWhiteSpace(options.MirrorRoot))
            {
                yield return "Secondary:MirrorRoot is not set (GEO_Secondary__MirrorRoot)";
            }

            if (PrimaryGitUrlProblem(options.PrimaryGitUrl) is { } problem)
            {
                yield return problem;
            }

            foreach (var (setting, value) in new[] { ("GitConnectTimeout", options.GitConnectTimeout), ("GitTimeout", options.GitTimeout) })
            {
                if (value < TimeSpan.Zero || value > MaxGitTimeout)
                {
                    yield return $"Secondary:{setting} must be between 00:00:00 (the operating system's default) and {MaxGitTimeout}, not {value}";
                }
            }
        }

        /// <summary>Only plain transports: no <c>ext::</c>, no options smuggled in as a URL.</summary>
        private static string? PrimaryGitUrlProblem(string configured)
        {
            if (string.IsNullOrWhiteSpace(configured))
            {
                return "Secondary:PrimaryGitUrl is not set (GEO_Secondary__PrimaryGitUrl)";
            }

            var trimmed = configured.TrimEnd('/');
            return Path.IsPathFullyQualified(trimmed)
                   || (Uri.TryCreate(trimmed, UriKind.Absolute, out var uri) && uri.Scheme is "file" or "http" or "https" or "ssh")
                ? null
                : $"Secondary:PrimaryGitUrl must be an absolute folder or a file://, http(s):// or ssh:// URL, not '{configured}'";
        }
    }
}
