using Geo.Events.Core.Configuration;
using Geo.Events.Core.Messaging;
using Microsoft.Extensions.Options;

namespace Geo.Events.Secondary;

/// <summary>
/// Section <c>Secondary</c>, the site itself: its name and queue, which projects it mirrors, how much work an
/// instance takes at once, and how it registers with geo-primary. The section's other settings are split by
/// area: <see cref="Repositories.MirrorOptions"/>, <see cref="Repositories.SyncOptions"/>,
/// <see cref="Verification.VerificationOptions"/> and <see cref="Files.FileStoreOptions"/>.
/// </summary>
public sealed class SecondaryOptions
{
    public const string Section = "Secondary";

    /// <summary>The site's name (a DNS label); its queue is <c>geo.secondary.&lt;Name&gt;</c>.</summary>
    public string Name { get; set; } = "";

    /// <summary>Selective sync: mirror only projects in these namespaces (group paths); empty means all.</summary>
    public List<string> Namespaces { get; set; } = [];

    /// <summary>
    /// How many events this instance handles at once. Far higher than Secondary:ConcurrentSyncs on purpose: key
    /// events need no fetch slot, and push events that join a waiting sync hold nothing but their message, so a
    /// burst to one repository costs one fetch.
    /// </summary>
    public int ConcurrentMessages { get; set; } = 128;

    /// <summary>
    /// geo-primary's HTTP base URL (e.g. <c>https://geo.example.com</c>). When set together with
    /// <see cref="RegistrationToken"/>, the secondary registers itself at start and reports its status.
    /// </summary>
    public string? PrimaryUrl { get; set; }

    /// <summary>The primary's registration token (only its hash is configured on the primary).</summary>
    public string? RegistrationToken { get; set; }

    /// <summary>This secondary's own URL, recorded by the primary for operators.</summary>
    public string? PublicUrl { get; set; }

    /// <summary>How often the secondary reports its status to geo-primary.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(15);

    public sealed class Validator : IValidateOptions<SecondaryOptions>
    {
        public ValidateOptionsResult Validate(string? name, SecondaryOptions options) => GeoOptions.Result(Problems(options));

        private static IEnumerable<string> Problems(SecondaryOptions options)
        {
            if (GeoTopology.SecondaryNameProblem(options.Name) is { } nameProblem)
            {
                yield return $"Secondary:Name (GEO_Secondary__Name): {nameProblem}";
            }
        }
    }
}
