namespace Geo.Events.Contracts.Api;

/// <summary>
/// Whether a secondary's mirror of one project has what was asked (<c>GET /api/v1/mirrors/{id}?ref=&amp;sha=</c> on
/// geo-secondary's own HTTP address): a ref at a commit, a commit anywhere, or, by default, every ref at the
/// primary's current commit. What <c>geo-admin wait</c> polls before a CI job clones from its site.
/// </summary>
public sealed record MirrorFreshness
{
    public required long ProjectId { get; init; }

    /// <summary>The project's path as the secondary knows it; null before any event for it arrived.</summary>
    public string? Path { get; init; }

    /// <summary>The registry's state (pending, synced, failed, destroyed), or <c>unknown</c> before any event arrived.</summary>
    public required string State { get; init; }

    /// <summary>True when the mirror has what was asked.</summary>
    public required bool UpToDate { get; init; }

    /// <summary>What is missing, in words (empty when up to date).</summary>
    public required string Detail { get; init; }

    /// <summary>The ref asked about, if any.</summary>
    public string? Ref { get; init; }

    /// <summary>The commit wanted: the one asked for, else the primary's current one for <see cref="Ref"/>.</summary>
    public string? WantedSha { get; init; }

    /// <summary>Where <see cref="Ref"/> points in the mirror (null: no such ref, or no mirror).</summary>
    public string? MirrorSha { get; init; }

    /// <summary>Refs that differ from the primary's (missing, extra or elsewhere); 0 when up to date.</summary>
    public int DifferingRefs { get; init; }

    /// <summary>Events for this project the secondary has received but not yet covered by a sync.</summary>
    public required bool EventsPending { get; init; }

    /// <summary>The mirror's refs checksum (see the README's "Refs checksum (v1)"); null when there is no mirror.</summary>
    public string? Checksum { get; init; }

    /// <summary>
    /// Why the safety net holds this project's mirror (<c>restored</c>: put back from the trash by an admin;
    /// <c>destroy-held</c>: destroyed on the primary, its destroy held by the mass-destruction guard), null when it
    /// holds nothing. A held mirror is not the project's current state on the primary: do not serve it as such.
    /// </summary>
    public string? Held { get; init; }

    /// <summary>Seconds since this secondary last synced the mirror; null when it never did.</summary>
    public double? SecondsSinceLastSync { get; init; }

    /// <summary>The project's last error on this secondary, if it failed.</summary>
    public string? LastError { get; init; }
}
