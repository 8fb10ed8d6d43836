using Geo.Events.Contracts;

namespace Geo.Events.Primary.Hooks;

/// <summary>
/// One GitLab event kind that geo-primary replicates: the rules its payload must meet and the contract event it
/// becomes. <see cref="Map"/> runs only on a payload that passed <see cref="Rules"/>; that is what makes the
/// mappings' reads of required fields safe, so each family (<c>Kinds/</c>) keeps its rules and its mapping side
/// by side. Where the event goes on the broker follows from the contract's type (<see cref="Core.Messaging.GeoTopology"/>).
/// </summary>
/// <param name="Name">GitLab's <c>event_name</c> (system hooks) or <c>object_kind</c> (webhooks).</param>
/// <param name="Rules">Adds the kind's rules to the validator; they apply only to payloads of this kind.</param>
/// <param name="Map">The contract event for a valid payload; its Sequence is left 0 for the event log to assign.</param>
public sealed record HookKind(string Name, Action<SystemHookValidator> Rules, Func<SystemHookPayload, EventStamp, IGeoEvent> Map);

/// <summary>What geo-primary stamps on every event it records.</summary>
public readonly record struct EventStamp(Guid EventId, DateTimeOffset OccurredAt);
