using Geo.Events.Contracts;
using Geo.Events.Core.Paths;
using MassTransit;
using Microsoft.Extensions.Options;

namespace Geo.Events.Secondary.Repositories;

/// <summary>
/// Applies <see cref="RepositoryChanged"/>: brings the project's mirror level with the primary. Idempotent
/// and order-safe because a sync converges to the primary's current refs; coalescing because an event that
/// had arrived before a successful sync started is already covered by that sync and is skipped.
/// </summary>
public sealed class RepositorySyncConsumer(
    ProjectRegistry registry,
    RepositoryLock locks,
    MirrorStore mirrors,
    IOptions<SecondaryOptions> options,
    ILogger<RepositorySyncConsumer> logger) : IConsumer<RepositoryChanged>
{
    public async Task Consume(ConsumeContext<RepositoryChanged> context)
    {
        var evt = context.Message;
        var cancellationToken = context.CancellationToken;

        // Checked again here: a replayed or forged message must not reach the disk with a bad path.
        var problem = ProjectPath.Problem(evt.PathWithNamespace);
        if (problem is not null)
        {
            throw new InvalidProjectPathException(evt.PathWithNamespace ?? "", problem);
        }

        await registry.NoteSeenAsync(evt.ProjectId, evt.PathWithNamespace, evt.Sequence, cancellationToken);

        await using var lease = await locks.AcquireAsync(evt.ProjectId, options.Value.LockTimeout, cancellationToken);
        var entry = await registry.GetAsync(evt.ProjectId, cancellationToken);
        if (entry.LastSyncedSequence >= evt.Sequence)
        {
            logger.LogDebug("Event {Sequence} for {Project} is covered by the sync up to {Covered}", evt.Sequence, evt.PathWithNamespace, entry.LastSyncedSequence);
            return;
        }

        // Everything received before this point is covered by the fetch that starts now.
        var covers = Math.Max(entry.MaxSeenSequence, evt.Sequence);
        try
        {
            await Task.Run(() => mirrors.Sync(entry.PathWithNamespace), cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            await registry.MarkFailedAsync(evt.ProjectId, e.Message, CancellationToken.None);
            throw;
        }

        await registry.MarkSyncedAsync(evt.ProjectId, covers, cancellationToken);
        logger.LogInformation("Synced {Project} (events up to {Covered})", entry.PathWithNamespace, covers);
    }
}
