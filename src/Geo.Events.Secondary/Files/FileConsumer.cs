using System.Diagnostics;
using Geo.Events.Contracts;
using Geo.Events.Core.Observability;
using Geo.Events.Core.Paths;
using Geo.Events.Secondary.Registration;
using Geo.Events.Secondary.Repositories;
using MassTransit;
using Microsoft.Extensions.Options;

namespace Geo.Events.Secondary.Files;

/// <summary>
/// Applies <see cref="FileCreated"/> and <see cref="FileDestroyed"/>. Each file has a lock (across instances)
/// and a sequence in the registry: an event older than what is recorded changes nothing, so a late create
/// cannot bring back a destroyed file. A file the primary no longer has is recorded as gone, not retried.
/// </summary>
public sealed class FileConsumer(
    FileStore store,
    FileRegistry registry,
    FileLock locks,
    PrimaryRegistration primary,
    IOptions<SyncOptions> options,
    ILogger<FileConsumer> logger) : IConsumer<FileCreated>, IConsumer<FileDestroyed>
{
    public async Task Consume(ConsumeContext<FileCreated> context)
    {
        var evt = context.Message;
        var started = Stopwatch.GetTimestamp();
        Check(evt.Path);
        var cancellationToken = context.CancellationToken;
        await using (await locks.AcquireAsync(evt.Kind, evt.Path, options.Value.LockTimeout, cancellationToken))
        {
            if (await registry.FindAsync(evt.Kind, evt.Path, cancellationToken) is { } known && (known.Sequence > evt.Sequence || (known.Sequence == evt.Sequence && known.State != FileState.Failed)))
            {
                Observe(nameof(FileCreated), "skipped", started);
                return; // a newer event (or this one) was applied already
            }

            var api = await primary.ApiAsync(cancellationToken);
            FileStore.Outcome outcome;
            try
            {
                outcome = await store.CopyAsync(api, evt, cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                await registry.RecordAsync(evt.Kind, evt.Path, evt.Sequence, FileState.Failed, evt.Size, evt.Sha256, e.Message, CancellationToken.None);
                Observe(nameof(FileCreated), "failed", started);
                throw;
            }

            if (outcome == FileStore.Outcome.GoneOnPrimary)
            {
                await registry.RecordAsync(evt.Kind, evt.Path, evt.Sequence, FileState.Gone, null, null, "the primary no longer has this file", cancellationToken);
                logger.LogInformation("{Kind} {Path} is gone on the primary; recorded, not retried", FilePath.Name(evt.Kind), evt.Path);
            }
            else
            {
                await registry.RecordAsync(evt.Kind, evt.Path, evt.Sequence, FileState.Present, evt.Size, evt.Sha256, null, cancellationToken);
            }

            Observe(nameof(FileCreated), outcome == FileStore.Outcome.Copied ? "applied" : "coalesced", started);
        }
    }

    public async Task Consume(ConsumeContext<FileDestroyed> context)
    {
        var evt = context.Message;
        var started = Stopwatch.GetTimestamp();
        Check(evt.Path);
        var cancellationToken = context.CancellationToken;
        await using (await locks.AcquireAsync(evt.Kind, evt.Path, options.Value.LockTimeout, cancellationToken))
        {
            if (await registry.FindAsync(evt.Kind, evt.Path, cancellationToken) is { } known && known.Sequence >= evt.Sequence)
            {
                Observe(nameof(FileDestroyed), "skipped", started);
                return;
            }

            // Tombstone first: a create older than this destroy, arriving later, finds it and does nothing.
            await registry.RecordAsync(evt.Kind, evt.Path, evt.Sequence, FileState.Destroyed, null, null, null, cancellationToken);
            store.Delete(evt.Kind, evt.Path);
            Observe(nameof(FileDestroyed), "applied", started);
        }
    }

    private static void Check(string path)
    {
        if (FilePath.Problem(path) is { } problem)
        {
            throw new InvalidFilePathException(path ?? "", problem);
        }
    }

    private static void Observe(string type, string outcome, long started)
    {
        GeoMetrics.EventsApplied.WithLabels(type, outcome).Inc();
        GeoMetrics.ApplyDuration.WithLabels(type).Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
    }
}
