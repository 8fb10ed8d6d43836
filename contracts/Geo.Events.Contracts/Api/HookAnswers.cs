using System.Text.Json.Serialization;

namespace Geo.Events.Contracts.Api;

/// <summary>
/// geo-primary's 202 to a hook it recorded: the event's sequence and id; <see cref="Duplicate"/> when the delivery
/// was recorded before (the first one's ids). <see cref="Path"/> is set only when the path recorded is not the
/// payload's (the primary's storage knows the project under another path).
/// </summary>
public sealed record HookRecorded(
    long Id,
    Guid EventId,
    bool Duplicate,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Path = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Note = null);

/// <summary>
/// geo-primary's 200 to a hook it acknowledges without recording anything: a kind it does not replicate, or a
/// delivery that must not change a mirror (GitLab's "Test" sample data). <see cref="Ignored"/> is always true.
/// </summary>
public sealed record HookIgnored(string Kind, string Reason, bool Test = false)
{
    public bool Ignored => true;
}
