namespace Geo.Events.Contracts.Api;

/// <summary>
/// One secondary as <c>geo-admin status</c>, <c>GET /api/v1/admin/status</c> and the status page show it: a verdict
/// (ok, behind, stale, failing, unknown, broken) with its reason and the figures behind it.
/// </summary>
/// <param name="OldestPendingSeconds">
/// Age of the oldest event routed to the secondary and not yet applied or covered, computed by geo-primary from its
/// event log against the secondary's low watermark (<paramref name="AppliedThrough"/>), not taken from the
/// secondary's report: it grows while the secondary is stopped and counts what waits in its queue. Null when none waits.
/// </param>
/// <param name="Unapplied">How many such events there are.</param>
/// <param name="Queued">Messages ready in its queue (null: the queue does not exist).</param>
public sealed record SecondaryHealth(
    string Name, string Verdict, string Reason, double? HeartbeatAgeSeconds, long? Queued, double? OldestPendingSeconds,
    long Synced, long Pending, long Failed, long Destroyed, long DeadLetters, long? LastSyncedSequence, long PrimarySequence,
    long Unapplied, long AppliedThrough)
{
    /// <summary>
    /// Per repository type (<c>project</c>, <c>wiki</c>, <c>design</c>, <c>snippet</c>, <c>group_wiki</c>), the
    /// secondary's mirrors that differ from the primary's last scan, as its last report says; null when it did not say.
    /// </summary>
    public IReadOnlyDictionary<string, long>? Differs { get; init; }

    /// <summary>Clones at the site (HTTP and SSH) served locally or sent to the primary, and bytes, as its last report says; null when it did not say.</summary>
    public ServingCounts? Serving { get; init; }
}
