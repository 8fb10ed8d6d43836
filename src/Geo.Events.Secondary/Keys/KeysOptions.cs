using System.Text.RegularExpressions;
#if !GEO_AUTHORIZED_KEYS
using Geo.Events.Core.Configuration;
using Microsoft.Extensions.Options;
#endif

namespace Geo.Events.Secondary.Keys;

/// <summary>Section <c>Keys</c>: how replicated SSH keys reach sshd.</summary>
public sealed partial class KeysOptions
{
    public const string Section = "Keys";

    /// <summary>
    /// The authorized_keys file geo-secondary maintains (gitlab-shell's format). Empty: no file is written,
    /// and sshd asks <c>geo-secondary authorized-keys</c> instead (AuthorizedKeysCommand).
    /// </summary>
    public string AuthorizedKeysFile { get; set; } = "";

    /// <summary>
    /// The forced command of every key line, called with <c>key-&lt;id&gt;</c>: gitlab-shell (serves from the primary's
    /// Gitaly), or <c>/path/to/geo-secondary git-shell</c> to serve clones from this site's mirrors.
    /// </summary>
    public string ShellCommand { get; set; } = "/opt/gitlab/embedded/service/gitlab-shell/bin/gitlab-shell";

    /// <summary>The account Git users log in as; AuthorizedKeysCommand answers for no other.</summary>
    public string SshUser { get; set; } = "git";

    /// <summary>How long key changes are gathered before one rewrite of the file.</summary>
    public TimeSpan BatchWindow { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// Besides rewriting on every change announced by any instance of this secondary (PostgreSQL LISTEN/NOTIFY), how
    /// often authorized_keys is rewritten from the registry anyway, which repairs a missed notification. 00:00:00: only
    /// at start, on changes and when the listening connection comes back.
    /// </summary>
    public TimeSpan ResyncInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How long to wait for <c>authorized_keys.lock</c>, held by any other writer.</summary>
    public TimeSpan LockTimeout { get; set; } = TimeSpan.FromSeconds(30);

    [GeneratedRegex(@"^/[A-Za-z0-9/._+-]+( [A-Za-z0-9._-]+)*\z", RegexOptions.CultureInvariant)]
    private static partial Regex SafeCommandPath();

    /// <summary>What is wrong with these settings, one message per setting; nothing when they are usable.</summary>
    public IEnumerable<string> Problems()
    {
        // The shell path goes inside command="…": only plain path characters, so it cannot close the quote.
        if (!SafeCommandPath().IsMatch(ShellCommand))
        {
            yield return $"Keys:ShellCommand must be an absolute path of letters, digits and / . _ + - only, optionally followed by plain words (e.g. '/usr/bin/geo-secondary git-shell'), not '{ShellCommand}'";
        }

        if (ResyncInterval < TimeSpan.Zero)
        {
            yield return "Keys:ResyncInterval must be 00:00:00 (off) or a positive time span";
        }

        if (AuthorizedKeysFile.Length > 0 && !Path.IsPathFullyQualified(AuthorizedKeysFile))
        {
            yield return $"Keys:AuthorizedKeysFile must be an absolute path, not '{AuthorizedKeysFile}'";
        }
    }

#if !GEO_AUTHORIZED_KEYS // geo-authorized-keys compiles this file too, and checks Problems() without a host
    public sealed class Validator : IValidateOptions<KeysOptions>
    {
        public ValidateOptionsResult Validate(string? name, KeysOptions options) => GeoOptions.Result(options.Problems());
    }
#endif
}
