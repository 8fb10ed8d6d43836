namespace Geo.Events.Contracts.Api;

/// <summary>
/// The body of <c>POST /api/v1/secondaries</c> (bearer: the registration token). Every member is optional on
/// purpose: geo-primary checks each one and answers 422 naming what is missing or wrong, which a missing
/// required member would turn into a bare 400.
/// </summary>
public sealed record SecondaryRegistration
{
    /// <summary>The secondary's name (a DNS label); its queue is <c>geo.secondary.&lt;name&gt;</c>.</summary>
    public string? Name { get; init; }

    /// <summary>Where the secondary serves its mirrors (an absolute http(s) URL), for people and tools.</summary>
    public string? Url { get; init; }

    /// <summary>Selective sync: the namespaces it mirrors; none means everything.</summary>
    public string[]? Namespaces { get; init; }

    /// <summary>
    /// The access token the secondary chose (geo-primary keeps only its hash). Choosing it before the first
    /// attempt makes a retry after a crash the same registration, not a rival one. Null: geo-primary makes one.
    /// </summary>
    public string? Token { get; init; }
}

/// <summary>geo-primary's answer to a registration: 201 for a new one, 200 for a repeat of the same one.</summary>
public sealed record RegistrationAnswer
{
    public required string Name { get; init; }

    /// <summary>The secondary's queue, declared before this answer, so no event is lost from here on.</summary>
    public required string Queue { get; init; }

    /// <summary>True for a new registration, false for a repeat with the same token.</summary>
    public required bool Registered { get; init; }

    /// <summary>The access token geo-primary made, when the secondary brought none; shown this once, never again.</summary>
    public string? Token { get; init; }
}
