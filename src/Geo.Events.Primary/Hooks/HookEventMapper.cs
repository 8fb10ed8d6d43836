using Geo.Events.Contracts;

namespace Geo.Events.Primary.Hooks;

/// <summary>Turns a validated GitLab payload into the contract event that secondaries consume.</summary>
public static class HookEventMapper
{
    /// <summary>Sequence is left 0: the event log assigns it when the row is committed.</summary>
    public static RepositoryChanged ToRepositoryChanged(SystemHookPayload payload, Guid eventId, DateTimeOffset occurredAt)
    {
        IReadOnlyList<RefChange> changes = payload.Kind == HookEvents.RepositoryUpdate
            ? payload.Changes!.Select(c => new RefChange(c.Ref!, c.Before!, c.After!)).ToList()
            : [new RefChange(payload.Ref!, payload.Before!, payload.After!)];

        return new RepositoryChanged
        {
            EventId = eventId,
            Sequence = 0,
            OccurredAt = occurredAt,
            ProjectId = payload.ProjectId!.Value,
            PathWithNamespace = payload.Project!.PathWithNamespace!,
            Trigger = payload.Kind!,
            Changes = changes,
        };
    }
}
