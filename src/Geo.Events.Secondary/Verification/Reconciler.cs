using System.Threading.Channels;
using Geo.Events.Contracts;
using Geo.Events.Contracts.Api;
using Geo.Events.Core.Repositories;
using Geo.Events.Secondary.Registration;
using Geo.Events.Secondary.Repositories;
using Microsoft.Extensions.Options;

namespace Geo.Events.Secondary.Verification;

/// <summary>
/// Backfill, verification and resync: compares each of the primary's repositories (its inventory, kind by kind
/// and page by page: projects, wikis, design repositories, snippets, group wikis) with this secondary's mirror by
/// refs checksum, and syncs the ones that are missing or differ, at most
/// Secondary:ConcurrentSyncs at once. A difference that remains after the sync is re-checked against the
/// primary's current checksum (a push may have landed meanwhile) before it counts as a failure. Runs are
/// resumable: each finished page moves the run's cursor in PostgreSQL.
/// </summary>
/// <remarks>This is also what repairs pushes whose hook never arrived: GitLab does not retry system hooks.</remarks>
public sealed class Reconciler(
    ReconcileRuns runs,
    ProjectRegistry registry,
    MirrorLayout mirrors,
    RepositorySync sync,
    ProjectMover mover,
    SafetyNet.DestroyGuard guard,
    IOptions<SecondaryOptions> options,
    IOptions<SyncOptions> syncOptions,
    IOptions<VerificationOptions> verificationOptions,
    ILogger<Reconciler> logger)
{
    private const int PageSize = 200;
    private readonly Channel<ReconcileRuns.Run> _queue = Channel.CreateUnbounded<ReconcileRuns.Run>();

    private enum Outcome
    {
        Matched,
        Repaired,
        Failed,
    }

    /// <summary>Queues a run for geo-admin's request; a request seen before is ignored.</summary>
    public async Task RequestAsync(SecondaryRequest request, CancellationToken cancellationToken)
    {
        if (await runs.CreateAsync(request.Kind, request.Id, request.ProjectId, cancellationToken) is { } run)
        {
            logger.LogInformation("Starting {Kind} run {Run} for request {Request}", run.Kind, run.Id, request.Id);
            await _queue.Writer.WriteAsync(run, cancellationToken);
        }
    }

    /// <summary>Processes runs one after another until stopped: first the interrupted ones, then new ones as they come.</summary>
    public async Task RunAsync(PrimaryApi api, bool firstRegistration, CancellationToken stoppingToken)
    {
        foreach (var unfinished in (await runs.UnfinishedAsync(stoppingToken)).Where(r => !SafetyNetKind.Is(r.Kind)))
        {
            logger.LogInformation("Resuming {Kind} run {Run} after project {Cursor}", unfinished.Kind, unfinished.Id, unfinished.Cursor);
            await _queue.Writer.WriteAsync(unfinished, stoppingToken);
        }

        if (firstRegistration && !await runs.AnyAsync(stoppingToken))
        {
            // A new secondary starts empty: fetch everything the primary has.
            await _queue.Writer.WriteAsync((await runs.CreateAsync(ReconcileKind.Backfill, null, null, stoppingToken))!, stoppingToken);
        }

        using var verifyTimer = StartVerifyTimer(stoppingToken);
        await foreach (var run in _queue.Reader.ReadAllAsync(stoppingToken))
        {
            try
            {
                if (run.Kind == ReconcileKind.Resync)
                {
                    await ResyncAsync(api, run, stoppingToken);
                }
                else
                {
                    await SweepAsync(api, run, stoppingToken);
                }
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                // The primary or PostgreSQL went away mid-run: the run stays 'running' and resumes at the next start.
                logger.LogWarning("{Kind} run {Run} interrupted: {Error}; it resumes where it stopped", run.Kind, run.Id, e.Message);
                await RequeueAsync(run, stoppingToken);
            }
        }
    }

    /// <summary>Puts an interrupted run back in line, at its stored cursor, once PostgreSQL answers again.</summary>
    private async Task RequeueAsync(ReconcileRuns.Run run, CancellationToken stoppingToken)
    {
        while (true)
        {
            await Task.Delay(TimeSpan.FromSeconds(5), stoppingToken);
            try
            {
                if ((await runs.UnfinishedAsync(stoppingToken)).FirstOrDefault(r => r.Id == run.Id) is { } stored)
                {
                    await _queue.Writer.WriteAsync(stored, stoppingToken);
                }

                return;
            }
            catch (Exception e) when (e is Npgsql.NpgsqlException or TimeoutException)
            {
                logger.LogWarning("Cannot read run {Run} back yet: {Error}", run.Id, e.Message);
            }
        }
    }

    private Timer? StartVerifyTimer(CancellationToken stoppingToken)
    {
        var interval = verificationOptions.Value.VerifyInterval;
        if (interval <= TimeSpan.Zero)
        {
            return null;
        }

        var started = DateTime.UtcNow;
        return new Timer(_ => _ = Task.Run(async () =>
        {
            try
            {
                // A backfill is a full comparison too; with neither yet, the first verification is due one interval after start.
                var last = await runs.LastFinishedAsync(stoppingToken) is { } at ? DateTime.SpecifyKind(at, DateTimeKind.Utc) : started;
                if (DateTime.UtcNow - last >= interval
                    && !(await runs.UnfinishedAsync(stoppingToken)).Any(r => r.Kind == ReconcileKind.Verify)
                    && await runs.CreateAsync(ReconcileKind.Verify, null, null, stoppingToken) is { } run)
                {
                    await _queue.Writer.WriteAsync(run, stoppingToken);
                }
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning("Could not schedule the periodic verification: {Error}", e.Message);
            }
        }, stoppingToken), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(Math.Min(interval.TotalSeconds, 60)));
    }

    /// <summary>
    /// A run's cursor: the kind in the top byte, the last owner id done below it (GitLab's ids stay far below 2^56).
    /// A cursor stored before kinds existed is a project id, kind 0: it reads the same.
    /// </summary>
    private const int KindShift = 56;

    private async Task SweepAsync(PrimaryApi api, ReconcileRuns.Run run, CancellationToken cancellationToken)
    {
        var startKind = (int)(run.Cursor >> KindShift);
        var cursor = run.Cursor & ((1L << KindShift) - 1);
        var failures = 0;
        var totalBefore = 0;
        foreach (var kind in RepositoryLayout.All.Where(k => (int)k >= startKind))
        {
            while (true)
            {
                var page = await api.InventoryAsync(cursor, PageSize, cancellationToken, kind);
                var outcomes = new System.Collections.Concurrent.ConcurrentBag<Outcome>();
                await Parallel.ForEachAsync(page.Projects, new ParallelOptions { MaxDegreeOfParallelism = syncOptions.Value.ConcurrentSyncs, CancellationToken = cancellationToken },
                    async (project, ct) => outcomes.Add(await ReconcileAsync(api, kind, project, page.Sequence, ct)));
                cursor = page.Next ?? page.Projects.LastOrDefault()?.Id ?? cursor;
                failures += outcomes.Count(o => o == Outcome.Failed);
                await runs.AdvanceAsync(run.Id, ((long)kind << KindShift) | cursor, totalBefore + page.Total, outcomes.Count, outcomes.Count(o => o == Outcome.Matched),
                    outcomes.Count(o => o == Outcome.Repaired), outcomes.Count(o => o == Outcome.Failed), cancellationToken);
                if (page.Next is null)
                {
                    totalBefore += page.Total;
                    break;
                }
            }

            cursor = 0;
        }

        var extra = run.Kind == ReconcileKind.Verify ? await ExtraAsync(api, cancellationToken) : null;
        var note = string.Join("; ", new[] { failures > 0 ? $"{failures} repositories still differ from the primary" : null, extra }.OfType<string>());
        await runs.FinishAsync(run.Id, note.Length > 0 ? note : null, cancellationToken);
        logger.LogInformation("{Kind} run {Run} finished ({Failures} failures)", run.Kind, run.Id, failures);
    }

    private async Task ResyncAsync(PrimaryApi api, ReconcileRuns.Run run, CancellationToken cancellationToken)
    {
        var found = await api.ProjectAsync(run.ProjectId ?? 0, cancellationToken);
        if (found is not { } current)
        {
            await runs.AdvanceAsync(run.Id, 0, 1, 1, 0, 0, 1, cancellationToken);
            await runs.FinishAsync(run.Id, $"the primary has no project {run.ProjectId}", cancellationToken);
            return;
        }

        // The project's repository, then its wiki and design repository where the primary has them.
        var failed = false;
        foreach (var kind in RepositoryLayout.ProjectKinds)
        {
            var entry = kind == RepositoryKind.Project ? current : await api.ProjectAsync(current.Project.Id, cancellationToken, kind);
            if (entry is null)
            {
                continue;
            }

            var outcome = await ReconcileAsync(api, kind, entry.Project, entry.Sequence, cancellationToken, force: true);
            failed |= outcome == Outcome.Failed;
            await runs.AdvanceAsync(run.Id, current.Project.Id, 1, kind == RepositoryKind.Project ? 1 : 0, outcome == Outcome.Matched && kind == RepositoryKind.Project ? 1 : 0,
                outcome == Outcome.Repaired ? 1 : 0, outcome == Outcome.Failed ? 1 : 0, cancellationToken);
        }

        await runs.FinishAsync(run.Id, failed ? "the mirror still differs from the primary" : null, cancellationToken);
    }

    private async Task<Outcome> ReconcileAsync(PrimaryApi api, RepositoryKind kind, InventoryProject project, long sequence, CancellationToken cancellationToken, bool force = false)
    {
        if (project.Checksum is null || RepositoryLayout.PathProblem(kind, project.Path) is not null || !RepositoryLayout.IsSelected(kind, project.Path, options.Value.Namespaces))
        {
            return Outcome.Matched; // nothing on the primary's disk to compare with, or not ours to mirror
        }

        var entry = await registry.FindAsync(project.Id, kind, cancellationToken);
        if (entry is { Destroyed: true })
        {
            return Outcome.Matched;
        }

        var moved = false;
        if (entry is not null && entry.PathWithNamespace != project.Path)
        {
            // Renamed on the primary while no event about it reached us (a lost hook): follow the primary's path.
            await mover.MoveAsync(project.Id, project.Path, sequence, "verification", cancellationToken, kind);
            moved = true;
        }

        var expected = project.Checksum;
        if (!force && LocalChecksum(project.Id, kind) == expected)
        {
            await registry.MarkVerifiedAsync(project.Id, moved ? VerificationState.Repaired : VerificationState.Verified, expected, cancellationToken, kind, expected, sequence);
            return moved ? Outcome.Repaired : Outcome.Matched;
        }

        try
        {
            // Two tries: the second after re-reading the primary, in case a push landed between its checksum and our fetch.
            for (var attempt = 0; attempt < 2; attempt++)
            {
                await sync.ForceAsync(project.Id, project.Path, sequence, cancellationToken, kind);
                var local = LocalChecksum(project.Id, kind);
                if (local == expected)
                {
                    await registry.MarkVerifiedAsync(project.Id, force ? VerificationState.Verified : VerificationState.Repaired, expected, cancellationToken, kind, expected, sequence);
                    return force ? Outcome.Matched : Outcome.Repaired;
                }

                if (await api.ProjectAsync(project.Id, cancellationToken, kind) is not { } now)
                {
                    return Outcome.Matched; // destroyed meanwhile: its event will remove the mirror
                }

                if (now.Project.Checksum == local)
                {
                    await registry.MarkVerifiedAsync(project.Id, VerificationState.Repaired, local, cancellationToken, kind, local, now.Sequence);
                    return Outcome.Repaired;
                }

                expected = now.Project.Checksum;
                sequence = now.Sequence;
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning("Could not repair the {Kind} of {OwnerId} ({Path}): {Error}", RepositoryLayout.Label(kind), project.Id, project.Path, e.Message);
        }

        await registry.MarkVerifiedAsync(project.Id, VerificationState.Mismatch, LocalChecksum(project.Id, kind), cancellationToken, kind, expected, sequence);
        return Outcome.Failed;
    }

    /// <summary>
    /// Mirrors kept here that the primary no longer has because an admin discarded their held destroys
    /// (<c>geo-admin guard discard</c>): reported, never removed. Null when there are none.
    /// </summary>
    private async Task<string?> ExtraAsync(PrimaryApi api, CancellationToken cancellationToken)
    {
        var extra = new List<string>();
        foreach (var (projectId, path) in await guard.DiscardedAsync(cancellationToken))
        {
            // Gone from the primary, or known only by events while its storage has no repository for it.
            if (mirrors.Exists(projectId) && await api.ProjectAsync(projectId, cancellationToken) is not { Project.Checksum: not null })
            {
                extra.Add($"{projectId} ({path})");
            }
        }

        if (extra.Count == 0)
        {
            return null;
        }

        logger.LogWarning("{Count} mirrors are extra: destroyed on the primary, kept here because 'geo-admin guard discard' dropped their destroys: {Projects}", extra.Count, string.Join(", ", extra));
        return $"{extra.Count} mirrors are extra (destroyed on the primary, kept by 'geo-admin guard discard'): {string.Join(", ", extra.Take(20))}";
    }

    /// <summary>The mirror's refs checksum; null when there is no mirror, or one libgit2 cannot read (then it is refetched like a missing one).</summary>
    private string? LocalChecksum(long ownerId, RepositoryKind kind)
    {
        try
        {
            return mirrors.Exists(ownerId, kind) ? RefsChecksum.Compute(mirrors.DataPath(ownerId, kind)) : null;
        }
        catch (LibGit2Sharp.LibGit2SharpException e)
        {
            logger.LogWarning("Cannot read the {Kind} mirror of {OwnerId} ({Error}); it counts as differing", RepositoryLayout.Label(kind), ownerId, e.Message);
            return null;
        }
    }
}
