using Prometheus;

namespace Geo.Events.Core.Observability;

/// <summary>
/// The Prometheus metrics both services expose on <c>/metrics</c>. Names follow Prometheus conventions
/// (base units, <c>_total</c> counters); labels are low-cardinality: event type, outcome, status, state.
/// </summary>
public static class GeoMetrics
{
    private static readonly double[] LatencyBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

    // geo-primary
    public static readonly Counter HooksReceived = Metrics.CreateCounter(
        "geo_hooks_received_total", "Hook deliveries geo-primary answered, by HTTP status.", "status");

    public static readonly Counter EventsIngested = Metrics.CreateCounter(
        "geo_events_ingested_total", "Events committed to the event log (duplicates not counted).", "type");

    public static readonly Counter EventsPublished = Metrics.CreateCounter(
        "geo_events_published_total", "Events the broker confirmed.", "type");

    public static readonly Gauge PrimaryLeader = Metrics.CreateGauge(
        "geo_primary_leader", "1 while this geo-primary instance holds the leader lease (publishes the outbox, runs the change detector and storage watcher), else 0.");

    public static readonly Gauge OutboxBacklog = Metrics.CreateGauge(
        "geo_outbox_backlog", "Events committed but not yet confirmed by the broker.");

    public static readonly Gauge OutboxOldestAge = Metrics.CreateGauge(
        "geo_outbox_oldest_age_seconds", "Age of the oldest event not yet confirmed by the broker (0 when none).");

    public static readonly Gauge DeadLetters = Metrics.CreateGauge(
        "geo_dead_letters", "Dead letters stored by geo-primary, by secondary and state.", "secondary", "state");

    public static readonly Histogram RepositoryScanDuration = Metrics.CreateHistogram(
        "geo_repository_scan_duration_seconds", "Duration of one pass of the repository change detector over every storage.",
        new HistogramConfiguration { Buckets = LatencyBuckets });

    public static readonly Gauge RepositoriesScanned = Metrics.CreateGauge(
        "geo_repository_scan_repositories", "Repositories the change detector looked at in its last pass.");

    public static readonly Gauge RepositoriesUnreadable = Metrics.CreateGauge(
        "geo_repository_scan_unreadable", "Repositories the change detector could not read in its last pass (each is logged).");

    public static readonly Counter RepositoryChangesAnnounced = Metrics.CreateCounter(
        "geo_repository_scan_announced_total", "Events the change detector recorded, by type.", "type");

    public static readonly Counter RepositoryChangesCovered = Metrics.CreateCounter(
        "geo_repository_scan_covered_total", "Changes the detector saw that hooks had already announced.");

    public static readonly Gauge SecondaryUnapplied = Metrics.CreateGauge(
        "geo_secondary_unapplied_events", "Events routed to a secondary that it has not reported finished with, counted by geo-primary.", "secondary");

    public static readonly Gauge SecondaryOldestUnappliedAge = Metrics.CreateGauge(
        "geo_secondary_oldest_unapplied_age_seconds",
        "Age of the oldest event routed to a secondary and not yet applied or covered, computed by geo-primary from its event log (0 when none).", "secondary");

    public static readonly Gauge SecondaryHeartbeatAge = Metrics.CreateGauge(
        "geo_secondary_heartbeat_age_seconds", "Time since a registered secondary last reported its status (absent until its first report).", "secondary");

    // geo-secondary
    public static readonly Counter EventsApplied = Metrics.CreateCounter(
        "geo_events_applied_total", "Events a secondary handled, by type and outcome (applied, coalesced, unchanged, failed).", "type", "outcome");

    public static readonly Histogram ApplyDuration = Metrics.CreateHistogram(
        "geo_apply_duration_seconds", "Time to apply one event on a secondary.", new HistogramConfiguration { LabelNames = ["type"], Buckets = LatencyBuckets });

    public static readonly Histogram ReplicationLag = Metrics.CreateHistogram(
        "geo_replication_lag_seconds", "From the hook accepted on geo-primary to the event applied on this secondary.",
        new HistogramConfiguration { LabelNames = ["type"], Buckets = LatencyBuckets });

    public static readonly Histogram FetchDuration = Metrics.CreateHistogram(
        "geo_fetch_duration_seconds", "Duration of a mirror clone or fetch.", new HistogramConfiguration { LabelNames = ["kind"], Buckets = LatencyBuckets });

    public static readonly Counter FetchBytes = Metrics.CreateCounter(
        "geo_fetch_bytes_total", "Bytes received by mirror clones and fetches.");

    public static readonly Counter Redeliveries = Metrics.CreateCounter(
        "geo_redeliveries_total", "Events sent to a delay queue for a later attempt.", "type");

    public static readonly Counter DeadLettered = Metrics.CreateCounter(
        "geo_dead_lettered_total", "Events given up on and moved to the error queue.", "type");

    public static readonly Counter AuthorizedKeysRewrites = Metrics.CreateCounter(
        "geo_authorized_keys_rewrites_total", "Rewrites of the authorized_keys file.");

    public static readonly Gauge Projects = Metrics.CreateGauge(
        "geo_projects", "Projects in this secondary's registry, by state.", "state");

    public static readonly Gauge MirrorsDiffering = Metrics.CreateGauge(
        "geo_mirrors_differing", "Mirrors whose refs differ from the primary's last scan (change detector, verification or the last fetch), by repository type.", "type");

    // geo-secondary, serving clones at the site
    public static readonly Counter ServeDecisions = Metrics.CreateCounter(
        "geo_serve_decisions_total", "Access decisions for clones at this site, by protocol and result (allowed, cached, denied, primary_unreachable, moved).", "protocol", "decision");

    public static readonly Histogram ServeDecisionDuration = Metrics.CreateHistogram(
        "geo_serve_decision_seconds", "Time to decide a clone's access, from the cache or by asking the primary.",
        new HistogramConfiguration { LabelNames = ["protocol", "source"], Buckets = LatencyBuckets });

    public static readonly Counter ServeClones = Metrics.CreateCounter(
        "geo_serve_clones_total", "Clones and fetches at this site, served from the mirror (local) or sent to the primary (redirected).", "protocol", "served");

    public static readonly Counter ServeBytes = Metrics.CreateCounter(
        "geo_serve_bytes_total", "Bytes git sent to clients from this site's mirrors.", "protocol");

    public static readonly Gauge OldestPendingAge = Metrics.CreateGauge(
        "geo_oldest_pending_age_seconds", "Age of the oldest project with an event received but not yet covered by a successful sync.");

    public static readonly Gauge DestroyGuarded = Metrics.CreateGauge(
        "geo_destroy_guarded", "1 while the mass-destruction guard holds destroys on this secondary (geo-admin guard release|discard), else 0.");

    public static readonly Gauge HeldDestroys = Metrics.CreateGauge(
        "geo_held_destroys", "Destroys the mass-destruction guard holds.");

    public static readonly Gauge TrashEntries = Metrics.CreateGauge(
        "geo_trash_entries", "Destroyed mirrors kept in the trash (Secondary:DestroyRetention).");
}
