using Geo.Events.Contracts;
using Geo.Events.Core.Keys;

namespace Geo.Events.Primary.Hooks;

/// <summary>Turns a validated GitLab payload into the contract event that secondaries consume.</summary>
public static class HookEventMapper
{
    /// <summary>Sequence is left 0: the event log assigns it when the row is committed.</summary>
    public static IGeoEvent Map(SystemHookPayload payload, Guid eventId, DateTimeOffset occurredAt) => payload.Kind switch
    {
        { } name when HookEvents.FileEvents.TryGetValue(name, out var file) => file.Create
            ? new FileCreated
            {
                EventId = eventId,
                Sequence = 0,
                OccurredAt = occurredAt,
                Kind = file.Kind,
                Path = payload.Path!,
                Size = payload.Size!.Value,
                Sha256 = payload.Sha256!,
            }
            : new FileDestroyed { EventId = eventId, Sequence = 0, OccurredAt = occurredAt, Kind = file.Kind, Path = payload.Path! },
        HookEvents.KeyCreate => ToSshKeyCreated(payload, eventId, occurredAt),
        HookEvents.KeyDestroy => new SshKeyDestroyed
        {
            EventId = eventId,
            Sequence = 0,
            OccurredAt = occurredAt,
            KeyId = payload.Id!.Value,
            Username = payload.Username!,
            UserId = payload.UserId,
        },
        HookEvents.ProjectCreate => new RepositoryChanged
        {
            EventId = eventId,
            Sequence = 0,
            OccurredAt = occurredAt,
            ProjectId = payload.ProjectId!.Value,
            PathWithNamespace = payload.PathWithNamespace!,
            Trigger = payload.Kind!,
        },
        HookEvents.ProjectRename or HookEvents.ProjectTransfer => new ProjectRenamed
        {
            EventId = eventId,
            Sequence = 0,
            OccurredAt = occurredAt,
            ProjectId = payload.ProjectId!.Value,
            PathWithNamespace = payload.PathWithNamespace!,
            OldPathWithNamespace = payload.OldPathWithNamespace!,
            Trigger = payload.Kind!,
        },
        HookEvents.ProjectDestroy => new ProjectDestroyed
        {
            EventId = eventId,
            Sequence = 0,
            OccurredAt = occurredAt,
            ProjectId = payload.ProjectId!.Value,
            PathWithNamespace = payload.PathWithNamespace!,
        },
        HookEvents.GroupRename => new NamespaceRenamed
        {
            EventId = eventId,
            Sequence = 0,
            OccurredAt = occurredAt,
            GroupId = payload.GroupId,
            FullPath = payload.FullPath!,
            OldFullPath = payload.OldFullPath!,
        },
        HookEvents.WikiPage => new RepositoryChanged
        {
            EventId = eventId,
            Sequence = 0,
            OccurredAt = occurredAt,
            ProjectId = payload.Project!.Id!.Value,
            PathWithNamespace = payload.Project.PathWithNamespace!,
            Kind = RepositoryKind.Wiki,
            Trigger = payload.Kind!,
        },
        _ => ToRepositoryChanged(payload, eventId, occurredAt),
    };

    public static RepositoryChanged ToRepositoryChanged(SystemHookPayload payload, Guid eventId, DateTimeOffset occurredAt)
    {
        IReadOnlyList<RefChange> changes = payload.Kind == HookEvents.RepositoryUpdate
            ? payload.Changes!.Select(c => new RefChange(c.Ref!, c.Before!, c.After!)).ToList()
            : [new RefChange(payload.Ref!, payload.Before!, payload.After!)];

        // A push to a wiki repository names the wiki (group/project.wiki): it is the project's wiki, not a project.
        var path = payload.Project!.PathWithNamespace!;
        var wiki = path.EndsWith(SystemHookPayload.WikiSuffix, StringComparison.Ordinal);
        return new RepositoryChanged
        {
            EventId = eventId,
            Sequence = 0,
            OccurredAt = occurredAt,
            ProjectId = payload.ProjectId!.Value,
            PathWithNamespace = wiki ? path[..^SystemHookPayload.WikiSuffix.Length] : path,
            Kind = wiki ? RepositoryKind.Wiki : RepositoryKind.Project,
            Trigger = payload.Kind!,
            Changes = changes,
        };
    }

    private static SshKeyCreated ToSshKeyCreated(SystemHookPayload payload, Guid eventId, DateTimeOffset occurredAt)
    {
        var key = SshPublicKey.Parse(payload.Key);
        return new SshKeyCreated
        {
            EventId = eventId,
            Sequence = 0,
            OccurredAt = occurredAt,
            KeyId = payload.Id!.Value,
            Username = payload.Username!,
            UserId = payload.UserId,
            KeyType = key.Type,
            KeyBlob = key.Base64,
            Fingerprint = key.Fingerprint,
        };
    }
}
