using System.Text.Json.Serialization;

namespace Geo.Events.Contracts.Api;

/// <summary>
/// A secondary's heartbeat, the body of <c>PUT /api/v1/secondaries/{name}/status</c>, sent every
/// Secondary:HeartbeatInterval. geo-primary stores it as sent (<c>secondaries.status</c>), closes the requests
/// whose runs it shows finished, and geo-admin reads it back for <c>status</c>, <c>secondaries show</c> and the
/// progress of a backfill. Members are optional: a report from an older secondary, or one written by hand,
/// may lack some, and readers take a missing figure as zero or unknown rather than refusing the report.
/// </summary>
public sealed record SecondaryStatus
{
    public DateTimeOffset? ReportedAt { get; init; }

    /// <summary>Age of the oldest event not yet applied (zero when none waits); on the wire in seconds.</summary>
    [JsonPropertyName("oldestPendingSeconds")]
    [JsonConverter(typeof(SecondsConverter))]
    public TimeSpan? OldestPending { get; init; }

    /// <summary>The newest event sequence any successful sync has covered.</summary>
    public long? LastSyncedSequence { get; init; }

    /// <summary>Project repositories per state.</summary>
    public RepositoryCounts? Projects { get; init; }

    /// <summary>Wiki repositories per state.</summary>
    public RepositoryCounts? Wikis { get; init; }

    /// <summary>
    /// Every repository type per state, keyed by its name: <c>project</c>, <c>wiki</c>, <c>design</c>, <c>snippet</c>,
    /// <c>group_wiki</c> (<see cref="Projects"/> and <see cref="Wikis"/> repeat the first two for older readers).
    /// </summary>
    public IReadOnlyDictionary<string, RepositoryCounts>? Repositories { get; init; }

    public KeyCounts? Keys { get; init; }

    /// <summary>Files per state (present, destroyed, gone, failed), keyed by the state as the secondary stores it.</summary>
    public IReadOnlyDictionary<string, long>? Files { get; init; }

    /// <summary>Clones at the site (smart HTTP) since the reporting instance started.</summary>
    public ServingCounts? Serving { get; init; }

    /// <summary>The namespaces this secondary mirrors (selective sync); empty means everything.</summary>
    public IReadOnlyList<string>? Namespaces { get; init; }

    /// <summary>The secondary's most recent reconcile runs, newest first.</summary>
    public IReadOnlyList<ReconcileRunStatus>? Runs { get; init; }

    /// <summary>
    /// Event sequences this secondary has finished with (applied, covered by a sync, filtered out by selective sync,
    /// or dead-lettered) above the watermark geo-primary last answered (<see cref="StatusAnswer.AppliedThrough"/>),
    /// lowest first, at most <see cref="MaxAppliedRanges"/> ranges. geo-primary advances the secondary's watermark
    /// over them and computes the age of its oldest unapplied event from its own event log.
    /// </summary>
    public IReadOnlyList<SequenceRange>? Applied { get; init; }

    /// <summary>The most ranges a report carries in <see cref="Applied"/> (the rest wait for the next report).</summary>
    public const int MaxAppliedRanges = 500;

    /// <summary>
    /// Safety net: destroyed mirrors kept in the trash (newest first, at most <see cref="MaxTrashEntries"/>), mirrors
    /// restored from it and held out of verification, and the mass-destruction guard. Null from older secondaries.
    /// </summary>
    public SafetyNetStatus? SafetyNet { get; init; }

    /// <summary>The most trash entries a report carries.</summary>
    public const int MaxTrashEntries = 1000;
}

/// <summary>What a secondary's safety net keeps and holds, as its status report carries it.</summary>
public sealed record SafetyNetStatus
{
    public IReadOnlyList<TrashEntryStatus>? Trash { get; init; }

    /// <summary>Mirrors restored from the trash (<c>geo-admin trash restore</c>), held until <c>geo-admin trash release</c>.</summary>
    public IReadOnlyList<RestoredMirrorStatus>? Restored { get; init; }

    /// <summary>True while the mass-destruction guard holds destroys (<c>geo-admin status</c> says <c>guarded</c>).</summary>
    public bool Guarded { get; init; }

    /// <summary>How many destroys are held.</summary>
    public long HeldDestroys { get; init; }

    /// <summary>When the guard tripped; null when it is not guarding.</summary>
    public DateTimeOffset? GuardedSince { get; init; }

    /// <summary>Why it tripped, e.g. "12 destroys within 01:00:00 (limit 10)".</summary>
    public string? GuardReason { get; init; }

    /// <summary>Old tips kept in the mirrors' hidden <c>refs/geo-attic/</c>, newest first, at most <see cref="SecondaryStatus.MaxTrashEntries"/>.</summary>
    public IReadOnlyList<AtticEntryStatus>? Attic { get; init; }
}

/// <summary>The old tip of a ref a sync moved non-fast-forward, or deleted, kept in the mirror's attic.</summary>
public sealed record AtticEntryStatus
{
    public long ProjectId { get; init; }

    /// <summary><c>project</c> or <c>wiki</c>.</summary>
    public required string Kind { get; init; }

    /// <summary>The attic ref, <c>refs/geo-attic/&lt;unix ms&gt;/heads/main</c>.</summary>
    public required string Ref { get; init; }

    /// <summary>The ref that was overwritten or deleted, <c>refs/heads/main</c>.</summary>
    public required string OriginalRef { get; init; }

    public required string Sha { get; init; }

    public DateTimeOffset KeptAt { get; init; }

    public DateTimeOffset ExpiresAt { get; init; }
}

/// <summary>One destroyed repository kept in the trash.</summary>
public sealed record TrashEntryStatus
{
    /// <summary>The trash folder's name under <c>&lt;MirrorRoot&gt;/@trash/</c>.</summary>
    public required string Name { get; init; }

    public long ProjectId { get; init; }

    /// <summary>The repository's kind as the mirror's folder names it: <c>project</c>, <c>wiki</c>, …</summary>
    public required string Kind { get; init; }

    /// <summary>The readable path it had when it was destroyed.</summary>
    public string? Path { get; init; }

    public DateTimeOffset TrashedAt { get; init; }

    /// <summary>When it is purged.</summary>
    public DateTimeOffset PurgeAt { get; init; }

    public long SizeBytes { get; init; }
}

/// <summary>A mirror restored from the trash and held (no destroy, verification or guard removes it) until released.</summary>
public sealed record RestoredMirrorStatus
{
    public long ProjectId { get; init; }

    public required string Path { get; init; }

    public DateTimeOffset RestoredAt { get; init; }
}

/// <summary>The event sequences <see cref="From"/> to <see cref="To"/>, both included.</summary>
public sealed record SequenceRange
{
    public long From { get; init; }

    public long To { get; init; }
}

/// <summary>
/// Repositories per registry state. A project's wiki has no <see cref="Destroyed"/> count of its own in the
/// report and a project is never <see cref="Absent"/>: the secondary leaves those out of the JSON.
/// </summary>
public sealed record RepositoryCounts
{
    public long Synced { get; init; }

    public long Pending { get; init; }

    public long Failed { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public long? Destroyed { get; init; }

    /// <summary>Wikis only: the primary has no such repository (a project without a wiki).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public long? Absent { get; init; }

    /// <summary>
    /// Mirrors whose refs differ from the primary's as the secondary last learned them (the change detector's scan,
    /// a verification, or the fetch that brought the mirror level): stale until a sync catches up.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public long? Differs { get; init; }
}

/// <summary>SSH keys in the secondary's registry: live ones, and tombstones of destroyed ones.</summary>
public sealed record KeyCounts
{
    public long Live { get; init; }

    public long Destroyed { get; init; }
}

/// <summary>One backfill, verify or resync run as the secondary reports it; its counts are geo-admin's progress bar.</summary>
public sealed record ReconcileRunStatus
{
    public long Id { get; init; }

    /// <summary>The <see cref="SecondaryRequest.Id"/> the run answers; null for a run the secondary started itself.</summary>
    public long? RequestId { get; init; }

    /// <summary>One of <see cref="ReconcileKind"/>.</summary>
    public string? Kind { get; init; }

    public long? ProjectId { get; init; }

    /// <summary>One of <see cref="ReconcileRunState"/>.</summary>
    public string? State { get; init; }

    public long Total { get; init; }

    public long Done { get; init; }

    public long Matched { get; init; }

    public long Repaired { get; init; }

    public long Failed { get; init; }

    public DateTimeOffset? StartedAt { get; init; }

    public DateTimeOffset? FinishedAt { get; init; }

    public string? Error { get; init; }
}

/// <summary>
/// Clones and fetches at a site (smart HTTP and SSH), counted by the reporting geo-secondary instance since it started
/// (the same figures as its geo_serve_* metrics; SSH's are those git-shell recorded and this instance took).
/// </summary>
public sealed record ServingCounts
{
    /// <summary>Git operations (one per info/refs) served from the mirror.</summary>
    public long ServedLocally { get; init; }

    /// <summary>Git operations sent to the primary: mirror stale, missing, failed, or moved on the primary.</summary>
    public long Redirected { get; init; }

    /// <summary>Bytes git sent to clients from the mirrors.</summary>
    public long BytesServed { get; init; }

    /// <summary>Access decisions by result: allowed, cached, denied, primary_unreachable, moved.</summary>
    public IReadOnlyDictionary<string, long>? Decisions { get; init; }

    /// <summary>The same figures per protocol (http, ssh); the ones above are their sums.</summary>
    public IReadOnlyDictionary<string, ServingCounts>? ByProtocol { get; init; }
}
