namespace Geo.Events.Core.DeadLetters;

/// <summary>
/// A dead letter's state, as stored in <c>dead_letters.state</c> (the CHECK constraint in infra/sql/primary lists the
/// same values) and as geo-admin's <c>--state</c> takes it. SQL gets them as parameters.
/// </summary>
public static class DeadLetterState
{
    /// <summary>Waiting for an admin: replay it, or archive it.</summary>
    public const string Failed = "failed";

    public const string Replayed = "replayed";

    /// <summary>Set aside by <c>geo-admin dlq delete</c>; deleted for good after the retention, or restored to failed.</summary>
    public const string Archived = "archived";
}

/// <summary>Why a message is a dead letter, as stored in <c>dead_letters.reason</c>.</summary>
public static class DeadLetterReason
{
    /// <summary>A consumer failed on it past its last retry (the secondary's <c>_error</c> queue).</summary>
    public const string Fault = "fault";

    /// <summary>No consumer took it (the secondary's <c>_skipped</c> queue).</summary>
    public const string Skipped = "skipped";
}

/// <summary>What geo-admin did to a dead letter, as stored in <c>dead_letter_actions.action</c>.</summary>
public static class DeadLetterAction
{
    public const string Replay = "replay";

    public const string Archive = "archive";

    public const string Restore = "restore";
}
