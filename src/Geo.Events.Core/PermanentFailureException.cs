namespace Geo.Events.Core;

/// <summary>
/// A failure that no retry can fix (an invalid path, a key that does not parse): the message goes straight
/// to the error queue instead of waiting through the redelivery delays.
/// </summary>
public abstract class PermanentFailureException(string message) : Exception(message);
