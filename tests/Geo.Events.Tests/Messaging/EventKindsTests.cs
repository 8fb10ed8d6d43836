using Geo.Events.Contracts;
using Geo.Events.Core.Messaging;
using Geo.Events.Primary.Hooks;
using MassTransit;

namespace Geo.Events.Tests.Messaging;

/// <summary>The table of event kinds, the exchanges derived from the contracts, and the consumers that apply them.</summary>
[TestClass]
public sealed class EventKindsTests
{
    /// <summary>
    /// The names existing brokers already have: secondaries' queues are bound to these exchanges, so a formatter
    /// that named one differently would route its events to nobody.
    /// </summary>
    [TestMethod]
    public void ExchangesKeepTheirNames()
    {
        var expected = new Dictionary<Type, string>
        {
            [typeof(RepositoryChanged)] = "geo.events.repository-changed",
            [typeof(SshKeyCreated)] = "geo.events.ssh-key-created",
            [typeof(SshKeyDestroyed)] = "geo.events.ssh-key-destroyed",
            [typeof(ProjectRenamed)] = "geo.events.project-renamed",
            [typeof(ProjectDestroyed)] = "geo.events.project-destroyed",
            [typeof(NamespaceRenamed)] = "geo.events.namespace-renamed",
            [typeof(GroupDestroyed)] = "geo.events.group-destroyed",
            [typeof(RepositoryDestroyed)] = "geo.events.repository-destroyed",
            [typeof(FileCreated)] = "geo.events.file-created",
            [typeof(FileDestroyed)] = "geo.events.file-destroyed",
        };
        CollectionAssert.AreEquivalent(expected.ToList(), GeoTopology.EventExchanges.ToList());
        Assert.AreEqual(typeof(ProjectRenamed), GeoTopology.EventType(nameof(ProjectRenamed)));
        Assert.IsNull(GeoTopology.EventType("IGeoEvent"));
    }

    /// <summary>A contract missing from the table would have its first publish after a takeover start cold.</summary>
    [TestMethod]
    public void EveryEventContractHasItsPublishEndpointPrepared() =>
        CollectionAssert.AreEquivalent(GeoTopology.EventTypes.ToList(), GeoTopology.PublishEndpoints.Keys.ToList());

    /// <summary>The dispatcher reads a row's stored body once, with the row's id as the event's Sequence.</summary>
    [TestMethod]
    public void TheDispatcherReadsARowWithItsIdAsTheSequence()
    {
        var stored = new SshKeyCreated
        {
            EventId = Guid.CreateVersion7(),
            OccurredAt = DateTimeOffset.UnixEpoch,
            Sequence = 0,
            KeyId = 7,
            Username = "ann",
            KeyType = "ssh-ed25519",
            KeyBlob = "AAAA",
            Fingerprint = "SHA256:x",
        };
        var body = System.Text.Json.JsonSerializer.Serialize(stored) + "\n";
        var evt = Primary.Outbox.OutboxDispatcher.Event(new Core.Outbox.EventLog.Row(42, nameof(SshKeyCreated), body, null), typeof(SshKeyCreated));
        Assert.AreEqual(stored with { Sequence = 42 }, evt);
        Assert.ThrowsExactly<InvalidOperationException>(() => Primary.Outbox.OutboxDispatcher.Event(new Core.Outbox.EventLog.Row(43, nameof(SshKeyCreated), "[1]", null), typeof(SshKeyCreated)));
    }

    /// <summary>An event published with no consumer on the secondary would go to its _skipped queue, unapplied.</summary>
    [TestMethod]
    public void EveryEventContractHasAConsumerOnTheSecondary()
    {
        var consumed = typeof(Secondary.SecondaryServices).Assembly.GetTypes()
            .Where(t => t is { IsClass: true, IsAbstract: false })
            .SelectMany(t => t.GetInterfaces())
            .Where(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IConsumer<>))
            .Select(i => i.GetGenericArguments()[0])
            .ToHashSet();
        var missing = GeoTopology.EventTypes.Where(t => !consumed.Contains(t)).Select(t => t.Name).ToList();
        Assert.AreEqual(0, missing.Count, $"no consumer for: {string.Join(", ", missing)}");
    }

    [TestMethod]
    public void TheFuzzGeneratesEveryReplicatedKind() =>
        CollectionAssert.AreEquivalent(HookKinds.Replicated.Keys.ToList(), Fuzz.HookPayloads.Kinds.ToList());

    [TestMethod]
    public void EveryKindIsEitherReplicatedOrIgnoredNeverBoth()
    {
        var both = HookKinds.Replicated.Keys.Intersect(HookKinds.Ignored).ToList();
        Assert.AreEqual(0, both.Count, string.Join(", ", both));
        Assert.IsTrue(HookKinds.Replicated.All(k => k.Key == k.Value.Name));
    }
}
