namespace Geo.Events.Secondary.Repositories;

/// <summary>Section <c>Secondary</c>: who may ask <c>GET /api/v1/mirrors/{id}</c> besides callers the primary lets read the project.</summary>
public sealed class MirrorApiOptions
{
    public const string Section = SecondaryOptions.Section;

    /// <summary>
    /// SHA-256 (hex) of a token that may ask about any project (Bearer): geo-primary's status page
    /// (Primary:MirrorApiToken) and geo-admin wait (GEO_MIRROR_API_TOKEN). Empty: only HTTP Basic credentials the
    /// primary accepts for the project.
    /// </summary>
    public string MirrorApiTokenSha256 { get; set; } = "";
}
