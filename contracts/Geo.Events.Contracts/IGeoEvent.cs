namespace Geo.Events.Contracts;

/// <summary>What every replicated event carries, whatever it is about.</summary>
public interface IGeoEvent
{
    /// <summary>Unique id of the event, assigned by geo-primary when it recorded it.</summary>
    Guid EventId { get; }

    /// <summary>The primary's event_log id: monotonic, so a consumer can tell an older event from a newer one.</summary>
    long Sequence { get; }

    /// <summary>When geo-primary recorded the event (UTC).</summary>
    DateTimeOffset OccurredAt { get; }
}

/// <summary>
/// An event about one project (its repository, wiki, path or existence): geo-primary records the project id beside
/// the event, so the inventory can find each project's latest path.
/// </summary>
public interface IProjectEvent : IGeoEvent
{
    /// <summary>GitLab's project id.</summary>
    long ProjectId { get; }
}
