namespace Geo.Events.Secondary.Serving;

/// <summary>What the primary answered to "may this credential read this repository", as the site acts on it.</summary>
public enum AccessOutcome
{
    /// <summary>The primary said yes just now.</summary>
    Allowed,

    /// <summary>The primary said yes less than Secondary:AuthCacheTtl ago.</summary>
    Cached,

    /// <summary>No credentials, or ones the primary does not know: the client is asked for (other) credentials.</summary>
    Unauthenticated,

    /// <summary>The credentials are known but may not read this repository (or it does not exist for them).</summary>
    Denied,

    /// <summary>The primary did not answer in time, or answered with a server error: nothing is served.</summary>
    Unreachable,

    /// <summary>The primary answered with a redirect (e.g. a renamed project): the client is sent to the primary.</summary>
    Moved,
}

/// <summary>A decision and what to tell the client: the HTTP status to answer, a message, the primary's WWW-Authenticate.</summary>
public sealed record AccessDecision(AccessOutcome Outcome, int Status, string Message, string? WwwAuthenticate = null)
{
    public bool Yes => Outcome is AccessOutcome.Allowed or AccessOutcome.Cached;

    /// <summary>The label of geo_serve_decisions_total.</summary>
    public string Label => Outcome switch
    {
        AccessOutcome.Allowed => "allowed",
        AccessOutcome.Cached => "cached",
        AccessOutcome.Unauthenticated or AccessOutcome.Denied => "denied",
        AccessOutcome.Unreachable => "primary_unreachable",
        _ => "moved",
    };
}
