using Geo.Events.Contracts;
using Geo.Events.Core.Keys;

namespace Geo.Events.IntegrationTests;

/// <summary>Key events as geo-primary publishes them, for tests that put them straight on a secondary's queue, and the line each one leaves in authorized_keys.</summary>
internal static class KeyEvents
{
    public static string AuthorizedKeysLine(long id, SshPublicKey key) =>
        $"command=\"/opt/gitlab/embedded/service/gitlab-shell/bin/gitlab-shell key-{id}\",no-port-forwarding,no-X11-forwarding,no-agent-forwarding,no-pty {key.Type} {key.Base64}";

    public static SshKeyCreated Created(long id, long sequence, SshPublicKey key) => new()
    {
        EventId = Guid.NewGuid(),
        Sequence = sequence,
        OccurredAt = DateTimeOffset.UtcNow,
        KeyId = id,
        Username = "jsmith",
        KeyType = key.Type,
        KeyBlob = key.Base64,
        Fingerprint = key.Fingerprint,
    };

    public static SshKeyDestroyed Destroyed(long id, long sequence) => new()
    {
        EventId = Guid.NewGuid(),
        Sequence = sequence,
        OccurredAt = DateTimeOffset.UtcNow,
        KeyId = id,
        Username = "jsmith",
    };
}
