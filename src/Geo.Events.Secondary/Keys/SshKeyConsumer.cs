using Geo.Events.Contracts;
using Geo.Events.Core;
using Geo.Events.Core.Keys;
using Geo.Events.Core.Observability;
using MassTransit;

namespace Geo.Events.Secondary.Keys;

/// <summary>
/// Applies key_create and key_destroy to the registry, newest sequence wins, then asks for the
/// authorized_keys file to follow; events that arrive together share one transaction and one rewrite
/// (<see cref="KeyBatchApplier"/>), each consumer still failing or succeeding for its own event alone. The key is
/// parsed again here: a replayed or forged message carrying a key with options, quotes or a newline is refused before
/// it is stored.
/// </summary>
public sealed class SshKeyConsumer(KeyBatchApplier applier, ILogger<SshKeyConsumer> logger)
    : IConsumer<SshKeyCreated>, IConsumer<SshKeyDestroyed>
{
    public async Task Consume(ConsumeContext<SshKeyCreated> context)
    {
        StageTrace.Mark("delivered", context.Message.Sequence);
        // An event recorded before deploy keys were mapped to "" carries a null username; a replay of it must apply.
        var evt = context.Message with { Username = context.Message.Username ?? "" };
        CheckUsername(evt.Username);
        if (!SshPublicKey.TryParse($"{evt.KeyType} {evt.KeyBlob}", out var key, out var problem) || key.Type != evt.KeyType || key.Base64 != evt.KeyBlob)
        {
            // The key id stays out of the message, so that dead letters with one cause form one group.
            throw new InvalidSshKeyException($"the key was refused: {(problem.Length > 0 ? problem : "its type or body has extra text")}");
        }

        var changed = await applier.ApplyAsync(KeyRegistry.Change.Create(evt, key), context.CancellationToken);
        if (changed)
        {
            logger.LogInformation("Key {KeyId} of {User} added ({Fingerprint})", evt.KeyId, evt.Username, key.Fingerprint);
        }

        Observe(evt, changed);
    }

    public async Task Consume(ConsumeContext<SshKeyDestroyed> context)
    {
        StageTrace.Mark("delivered", context.Message.Sequence);
        var evt = context.Message with { Username = context.Message.Username ?? "" };
        CheckUsername(evt.Username);
        var changed = await applier.ApplyAsync(KeyRegistry.Change.Destroy(evt), context.CancellationToken);
        if (changed)
        {
            logger.LogInformation("Key {KeyId} of {User} removed", evt.KeyId, evt.Username);
        }

        Observe(evt, changed);
    }

    private static void Observe(IGeoEvent evt, bool changed)
    {
        StageTrace.Mark("applied", evt.Sequence);
        var type = evt.GetType().Name;
        GeoMetrics.EventsApplied.WithLabels(type, changed ? "applied" : "unchanged").Inc();
        GeoMetrics.ReplicationLag.WithLabels(type).Observe((DateTimeOffset.UtcNow - evt.OccurredAt).TotalSeconds);
    }

    /// <summary>
    /// A deploy key has no username (GitLab sends none; geo-primary maps that to ""). One that is present must be
    /// printable ASCII without spaces, as geo-primary checked at ingest.
    /// </summary>
    private static void CheckUsername(string username)
    {
        if (username.Length > 255 || !username.All(c => c > ' ' && c < '\x7f'))
        {
            throw new InvalidSshKeyException("the key's username is not printable ASCII");
        }
    }
}

/// <summary>A key event that can never be applied: not retried, straight to the error queue.</summary>
public sealed class InvalidSshKeyException(string message) : PermanentFailureException(message);
