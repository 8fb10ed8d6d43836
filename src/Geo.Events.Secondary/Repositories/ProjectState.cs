namespace Geo.Events.Secondary.Repositories;

/// <summary>
/// The states of a row of <c>projects</c> (one repository of a project), as stored in <c>projects.state</c>; the
/// table's CHECK constraint (infra/sql/secondary) lists the same values. SQL gets them as parameters.
/// </summary>
public static class ProjectState
{
    /// <summary>An event arrived that no successful sync has covered yet.</summary>
    public const string Pending = "pending";

    public const string Synced = "synced";

    /// <summary>The last sync failed; the event is retried, then dead-lettered.</summary>
    public const string Failed = "failed";

    /// <summary>A tombstone: the project was destroyed on the primary, and nothing brings the mirror back.</summary>
    public const string Destroyed = "destroyed";

    /// <summary>The primary has no such repository (a project without a wiki): nothing to mirror, not an error.</summary>
    public const string Absent = "absent";
}

/// <summary>The outcome of a project's last verification, as stored in <c>projects.verification_state</c>.</summary>
public static class VerificationState
{
    public const string Verified = "verified";

    /// <summary>The mirror differed (or sat at an old path) and was brought in step.</summary>
    public const string Repaired = "repaired";

    /// <summary>The mirror still differs from the primary after the repair attempts.</summary>
    public const string Mismatch = "mismatch";
}
