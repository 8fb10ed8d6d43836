using Geo.Events.Contracts;
using Geo.Events.Contracts.Api;
using Geo.Events.Core.Paths;
using Geo.Events.Core.Repositories;
using Geo.Events.Secondary.Repositories;
using Geo.Events.Secondary.Verification;

namespace Geo.Events.Secondary.SafetyNet;

/// <summary>
/// Carries out geo-admin's safety-net requests (<see cref="SafetyNetKind"/>), handed over with a status report's
/// answer like backfill and verify. Each is answered as a one-project run in <c>reconcile_runs</c>, so geo-admin
/// follows it the same way; a refusal finishes the run with Failed 1 and the reason. Every action is idempotent: a
/// request seen again after a kill is carried out again, and what was already done is not done twice.
/// </summary>
public sealed class SafetyNetRequests(
    ReconcileRuns runs,
    ProjectMover mover,
    ProjectDestroyer destroyer,
    MirrorLayout layout,
    MirrorTrash trash,
    RestoredMirrors restored,
    DestroyGuard guard,
    AtticRefs attic,
    MirrorFetcher fetcher,
    ILogger<SafetyNetRequests> logger)
{
    private static readonly IReadOnlyList<RepositoryKind> Kinds = RepositoryLayout.ProjectKinds;

    /// <summary>A request that cannot be carried out, with the reason geo-admin shows.</summary>
    private sealed class RefusedException(string message) : Exception(message);

    public async Task HandleAsync(SecondaryRequest request, CancellationToken cancellationToken)
    {
        var resumed = await runs.ByRequestAsync(request.Id, cancellationToken); // a kill interrupted it: finish what is left
        var run = resumed ?? await runs.CreateAsync(request.Kind, request.Id, request.ProjectId, cancellationToken);
        if (run is null || run.State == ReconcileRunState.Finished)
        {
            return;
        }

        logger.LogInformation("Safety net: {Kind} for request {Request} (project {ProjectId})", request.Kind, request.Id, request.ProjectId);
        string? refusal = null;
        var done = 1;
        try
        {
            done = request.Kind switch
            {
                SafetyNetKind.TrashRestore => await RestoreAsync(Project(request), request.Argument, resumed is not null, cancellationToken),
                SafetyNetKind.TrashRelease => await ReleaseAsync(Project(request), resumed is not null, cancellationToken),
                SafetyNetKind.GuardRelease => await GuardReleaseAsync(cancellationToken),
                SafetyNetKind.GuardDiscard => await guard.DiscardAsync(cancellationToken),
                SafetyNetKind.AtticRestore => await AtticRestoreAsync(Project(request), request.Argument, cancellationToken),
                _ => throw new RefusedException($"this secondary does not know the request kind '{request.Kind}'"),
            };
        }
        catch (Exception e) when (e is RefusedException or InvalidOperationException or LibGit2Sharp.LibGit2SharpException or IOException or UnauthorizedAccessException or InvalidProjectPathException)
        {
            refusal = e.Message;
            logger.LogWarning("Safety net: {Kind} for request {Request} refused: {Reason}", request.Kind, request.Id, e.Message);
        }

        await runs.AdvanceAsync(run.Id, 0, Math.Max(done, 1), Math.Max(done, 1), refusal is null ? Math.Max(done, 1) : 0, 0, refusal is null ? 0 : 1, cancellationToken);
        await runs.FinishAsync(run.Id, refusal, cancellationToken);
    }

    private static long Project(SecondaryRequest request) =>
        request.ProjectId is { } id and > 0 ? id : throw new RefusedException("the request names no project");

    /// <summary>Puts the project's newest trash entries (its repository and its wiki) back and links them at the path.</summary>
    private async Task<int> RestoreAsync(long projectId, string? to, bool resumed, CancellationToken cancellationToken)
    {
        await using (await mover.LockAllAsync(projectId, Kinds, cancellationToken))
        {
            var entries = trash.Entries().Where(e => e.Note.ProjectId == projectId)
                .GroupBy(e => e.Note.Kind).Select(g => g.First()).ToList(); // newest of each kind
            var held = await restored.FindAsync(projectId, cancellationToken);
            if (entries.Count == 0)
            {
                if (held is not null && layout.Exists(projectId))
                {
                    return resumed ? 1 : throw new RefusedException($"project {projectId} is restored already, at {held.Path}, and held until 'geo-admin trash release'");
                }

                throw new RefusedException($"the trash holds nothing of project {projectId}");
            }

            var path = to ?? held?.Path ?? entries.Select(e => e.Note.Path).FirstOrDefault(p => p is not null)
                       ?? throw new RefusedException($"the trash does not know where project {projectId} was: give --to <path>");
            if (ProjectPath.Problem(path) is { } problem)
            {
                throw new RefusedException($"'{path}' is not a project path: it {problem}");
            }

            var restoring = Kinds.Select(k => (Kind: k, Entry: entries.FirstOrDefault(e => e.Note.Kind == MirrorLayout.KindName(k)))).Where(r => r.Entry is not null).ToList();
            foreach (var (kind, _) in restoring)
            {
                if (layout.Exists(projectId, kind))
                {
                    throw new RefusedException($"project {projectId} already has a {MirrorLayout.KindName(kind)} mirror here");
                }

                var link = new FileInfo(layout.LinkPath(projectId, kind, path));
                if (link.Exists || Directory.Exists(link.FullName) || link.LinkTarget is not null)
                {
                    throw new RefusedException($"'{path}' is taken here ({link.FullName} exists): restore with --to <another path>");
                }
            }

            // Hold first: a kill after it leaves a hold on nothing (release clears it), never a restored mirror without one.
            await restored.HoldAsync(projectId, path, cancellationToken);
            await Task.Run(() =>
            {
                foreach (var (kind, entry) in restoring)
                {
                    trash.Restore(entry!, layout.DataPath(projectId, kind));
                    layout.Link(projectId, kind, path, null);
                }
            }, cancellationToken);
            logger.LogWarning("Project {ProjectId} restored from the trash to {Path} and held until 'geo-admin trash release'", projectId, path);
            return 1;
        }
    }

    /// <summary>Stops holding a restored project: its links go, its mirrors go back to the trash (kept for another retention).</summary>
    private async Task<int> ReleaseAsync(long projectId, bool resumed, CancellationToken cancellationToken)
    {
        await using (await mover.LockAllAsync(projectId, Kinds, cancellationToken))
        {
            if (await restored.FindAsync(projectId, cancellationToken) is not { } held)
            {
                if (resumed)
                {
                    return 1; // released before the kill
                }

                throw new RefusedException($"project {projectId} is not held (it was not restored from the trash, or was released)");
            }

            await Task.Run(() =>
            {
                foreach (var kind in Kinds)
                {
                    layout.Unlink(projectId, kind, held.Path);
                    trash.Discard(layout.DataPath(projectId, kind), projectId, MirrorLayout.KindName(kind), held.Path);
                }
            }, cancellationToken);
            await restored.ReleaseAsync(projectId, cancellationToken);
            logger.LogInformation("Project {ProjectId} ({Path}) released: its mirrors are back in the trash", projectId, held.Path);
            return 1;
        }
    }

    private async Task<int> AtticRestoreAsync(long projectId, string? argument, CancellationToken cancellationToken)
    {
        var parts = (argument ?? "").Split(' ');
        if (parts.Length != 2 || !parts[0].StartsWith(MirrorFetcher.AtticPrefix, StringComparison.Ordinal) || !IsRefName(parts[1]))
        {
            throw new RefusedException($"an attic restore needs an attic ref (refs/geo-attic/…) and a new ref name (refs/…), not '{argument}'");
        }

        var row = await attic.FindAsync(projectId, parts[0], cancellationToken);
        var kind = row is null ? RepositoryKind.Project : (RepositoryKind)row.Kind;
        await using (await mover.LockAllAsync(projectId, Kinds, cancellationToken))
        {
            if (!layout.Exists(projectId, kind))
            {
                throw new RefusedException($"project {projectId} has no {MirrorLayout.KindName(kind)} mirror here");
            }

            await Task.Run(() => fetcher.RestoreFromAttic(projectId, kind, parts[0], parts[1]), cancellationToken);
            return 1;
        }
    }

    /// <summary>A ref name under refs/ that git accepts, and that is not in the attic.</summary>
    private static bool IsRefName(string name) =>
        name.StartsWith("refs/", StringComparison.Ordinal) && !name.StartsWith(MirrorFetcher.AtticPrefix, StringComparison.Ordinal)
        && name.Length <= 1024 && LibGit2Sharp.Reference.IsValidName(name);

    private async Task<int> GuardReleaseAsync(CancellationToken cancellationToken)
    {
        var held = await guard.HeldAsync(cancellationToken);
        foreach (var destroy in held)
        {
            await destroyer.ApplyHeldAsync(destroy, cancellationToken);
        }

        await guard.EndAsync(cancellationToken);
        logger.LogWarning("Mass-destruction guard released: {Count} held destroys applied", held.Count);
        return held.Count;
    }
}
