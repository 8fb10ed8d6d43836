using Geo.Events.Contracts;
using Geo.Events.Contracts.Api;
using Geo.Events.Core.Observability;
using Geo.Events.Core.Repositories;
using Geo.Events.Secondary.Keys;
using Geo.Events.Secondary.Repositories;
using Microsoft.Extensions.Options;

namespace Geo.Events.Secondary.Registration;

/// <summary>This secondary's status as the heartbeat reports it, read from its registries.</summary>
public sealed class SiteStatus(
    IOptions<SecondaryOptions> options,
    ProjectRegistry projects,
    KeyRegistry keys,
    Files.FileRegistry files,
    Verification.ReconcileRuns runs,
    AppliedEvents applied,
    SafetyNet.SafetyNetState safetyNet)
{
    private const int RecentRuns = 10;

    public async Task<SecondaryStatus> CollectAsync(CancellationToken cancellationToken)
    {
        var (projectStates, projectOldest) = await projects.SummaryAsync(cancellationToken, RepositoryKind.Project);
        var (wikiStates, wikiOldest) = await projects.SummaryAsync(cancellationToken, RepositoryKind.Wiki);
        var differing = await projects.DifferingAsync(cancellationToken);
        var repositories = new Dictionary<string, RepositoryCounts>();
        foreach (var kind in RepositoryLayout.All)
        {
            var states = kind switch
            {
                RepositoryKind.Project => projectStates,
                RepositoryKind.Wiki => wikiStates,
                _ => (await projects.SummaryAsync(cancellationToken, kind)).States,
            };
            repositories[RepositoryLayout.Label(kind)] = new RepositoryCounts
            {
                Synced = states.GetValueOrDefault(ProjectState.Synced),
                Pending = states.GetValueOrDefault(ProjectState.Pending),
                Failed = states.GetValueOrDefault(ProjectState.Failed),
                Destroyed = states.GetValueOrDefault(ProjectState.Destroyed),
                Absent = states.GetValueOrDefault(ProjectState.Absent),
                Differs = differing.GetValueOrDefault(kind),
            };
        }

        var keyCounts = await keys.CountsAsync(cancellationToken);
        return new SecondaryStatus
        {
            ReportedAt = DateTimeOffset.UtcNow,
            OldestPending = TimeSpan.FromSeconds(Math.Max(projectOldest, wikiOldest)), // the oldest unapplied event of either kind
            LastSyncedSequence = await projects.LastSyncedSequenceAsync(cancellationToken),
            Projects = new RepositoryCounts
            {
                Synced = projectStates.GetValueOrDefault(ProjectState.Synced),
                Pending = projectStates.GetValueOrDefault(ProjectState.Pending),
                Failed = projectStates.GetValueOrDefault(ProjectState.Failed),
                Destroyed = projectStates.GetValueOrDefault(ProjectState.Destroyed),
                Differs = differing.GetValueOrDefault(RepositoryKind.Project),
            },
            Wikis = new RepositoryCounts
            {
                Synced = wikiStates.GetValueOrDefault(ProjectState.Synced),
                Pending = wikiStates.GetValueOrDefault(ProjectState.Pending),
                Failed = wikiStates.GetValueOrDefault(ProjectState.Failed),
                Absent = wikiStates.GetValueOrDefault(ProjectState.Absent),
                Differs = differing.GetValueOrDefault(RepositoryKind.Wiki),
            },
            Repositories = repositories,
            Keys = new KeyCounts { Live = keyCounts.Live, Destroyed = keyCounts.Destroyed },
            Files = await files.SummaryAsync(cancellationToken),
            Serving = ServingFigures(),
            Namespaces = options.Value.Namespaces,
            Applied = await applied.RangesAsync(cancellationToken),
            SafetyNet = await safetyNet.CollectAsync(cancellationToken),
            Runs = (await runs.RecentAsync(RecentRuns, cancellationToken)).Select(r => new ReconcileRunStatus
            {
                Id = r.Id,
                RequestId = r.RequestId,
                Kind = r.Kind,
                ProjectId = r.ProjectId,
                State = r.State,
                Total = r.Total,
                Done = r.Done,
                Matched = r.Matched,
                Repaired = r.Repaired,
                Failed = r.Failed,
                StartedAt = DateTime.SpecifyKind(r.StartedAt, DateTimeKind.Utc),
                FinishedAt = r.FinishedAt is { } finished ? DateTime.SpecifyKind(finished, DateTimeKind.Utc) : null,
                Error = r.Error,
            }).ToList(),
        };
    }

    /// <summary>geo_serve_* of this instance, per protocol (http: its own requests; ssh: what it took from git-shell) and summed.</summary>
    public static ServingCounts ServingFigures()
    {
        string[] decisions = ["allowed", "cached", "denied", "primary_unreachable", "moved"];
        var byProtocol = new[] { Serving.PrimaryGitAccess.Protocol, Serving.InternalApiAccess.Protocol }.ToDictionary(p => p, p => new ServingCounts
        {
            ServedLocally = (long)GeoMetrics.ServeClones.WithLabels(p, "local").Value,
            Redirected = (long)GeoMetrics.ServeClones.WithLabels(p, "redirected").Value,
            BytesServed = (long)GeoMetrics.ServeBytes.WithLabels(p).Value,
            Decisions = decisions.ToDictionary(d => d, d => (long)GeoMetrics.ServeDecisions.WithLabels(p, d).Value),
        });
        return new ServingCounts
        {
            ServedLocally = byProtocol.Values.Sum(c => c.ServedLocally),
            Redirected = byProtocol.Values.Sum(c => c.Redirected),
            BytesServed = byProtocol.Values.Sum(c => c.BytesServed),
            Decisions = decisions.ToDictionary(d => d, d => byProtocol.Values.Sum(c => c.Decisions![d])),
            ByProtocol = byProtocol,
        };
    }
}
