using Geo.Events.Contracts;
using Geo.Events.Contracts.Api;
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
            },
            Wikis = new RepositoryCounts
            {
                Synced = wikiStates.GetValueOrDefault(ProjectState.Synced),
                Pending = wikiStates.GetValueOrDefault(ProjectState.Pending),
                Failed = wikiStates.GetValueOrDefault(ProjectState.Failed),
                Absent = wikiStates.GetValueOrDefault(ProjectState.Absent),
            },
            Keys = new KeyCounts { Live = keyCounts.Live, Destroyed = keyCounts.Destroyed },
            Files = await files.SummaryAsync(cancellationToken),
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
}
