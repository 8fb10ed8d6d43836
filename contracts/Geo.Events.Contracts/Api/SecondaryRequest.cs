namespace Geo.Events.Contracts.Api;

/// <summary>
/// Work geo-admin left for a secondary (backfill, verify, resync of one project). geo-admin writes it to
/// geo-primary's <c>secondary_requests</c>; the secondary receives the open ones in <see cref="StatusAnswer"/>
/// and reports its run, with <see cref="ReconcileRunStatus.RequestId"/>, until the request is closed.
/// </summary>
public sealed record SecondaryRequest
{
    public required long Id { get; init; }

    /// <summary>One of <see cref="ReconcileKind"/>.</summary>
    public required string Kind { get; init; }

    /// <summary>The project a <see cref="ReconcileKind.Resync"/> (or a safety-net request) is about; null for the others.</summary>
    public required long? ProjectId { get; init; }

    /// <summary>
    /// A safety-net request's argument: the path a <see cref="SafetyNetKind.TrashRestore"/> restores to (null: the old
    /// path). Null for the reconcile kinds.
    /// </summary>
    public string? Argument { get; init; }
}

/// <summary>
/// Safety-net requests (<c>geo-admin trash|guard|attic</c>), left and delivered like <see cref="ReconcileKind"/>'s:
/// the secondary answers each with a one-project run (Total 1; Failed 1 and Error saying why when it could not).
/// </summary>
public static class SafetyNetKind
{
    /// <summary>Put a project's mirrors back from the trash (to <see cref="SecondaryRequest.Argument"/> or the old path) and hold them.</summary>
    public const string TrashRestore = "trash-restore";

    /// <summary>Stop holding a restored project: its mirrors go back to the trash.</summary>
    public const string TrashRelease = "trash-release";

    /// <summary>Apply the destroys the mass-destruction guard holds, and stop guarding.</summary>
    public const string GuardRelease = "guard-release";

    /// <summary>Drop the destroys the mass-destruction guard holds (their mirrors stay, reported as extra), and stop guarding.</summary>
    public const string GuardDiscard = "guard-discard";

    /// <summary>
    /// Create a ref at an old tip kept in a mirror's attic; <see cref="SecondaryRequest.Argument"/> is
    /// <c>&lt;attic ref&gt; &lt;new ref&gt;</c> (ref names hold no space).
    /// </summary>
    public const string AtticRestore = "attic-restore";

    public static readonly IReadOnlyList<string> All = [TrashRestore, TrashRelease, GuardRelease, GuardDiscard, AtticRestore];

    public static bool Is(string kind) => All.Contains(kind);
}

/// <summary>
/// The kinds of reconcile run, as stored in geo-primary's <c>secondary_requests.kind</c> and the secondary's
/// <c>reconcile_runs.kind</c> (both CHECK constraints list them) and sent in requests and status reports.
/// </summary>
public static class ReconcileKind
{
    /// <summary>Sync everything the secondary lacks or has different from the primary.</summary>
    public const string Backfill = "backfill";

    /// <summary>Compare every mirror with the primary by refs checksum and repair the ones that differ.</summary>
    public const string Verify = "verify";

    /// <summary>Fetch one project again, whatever the registry says.</summary>
    public const string Resync = "resync";
}

/// <summary>A run's state, as stored in the secondary's <c>reconcile_runs.state</c> and reported in its status.</summary>
public static class ReconcileRunState
{
    public const string Running = "running";

    /// <summary>geo-primary closes the run's request when a report shows it in this state.</summary>
    public const string Finished = "finished";
}

/// <summary>geo-primary's answer to a status report (<c>PUT /api/v1/secondaries/{name}/status</c>).</summary>
public sealed record StatusAnswer
{
    /// <summary>The requests geo-admin left for this secondary that no report has shown finished yet.</summary>
    public required IReadOnlyList<SecondaryRequest> Requests { get; init; }

    /// <summary>
    /// The secondary's low watermark as geo-primary computed it from this report: every event up to this sequence
    /// that was routed to the secondary is finished with. The secondary forgets the sequences it recorded up to it.
    /// </summary>
    public long? AppliedThrough { get; init; }
}
