namespace Geo.Events.Secondary.Files;

/// <summary>
/// The states of a row of <c>files</c>, as stored in <c>files.state</c> (the CHECK constraint in infra/sql/secondary
/// lists the same values) and counted by state in the status report. SQL gets them as parameters.
/// </summary>
public static class FileState
{
    /// <summary>On disk, its size and SHA-256 verified.</summary>
    public const string Present = "present";

    /// <summary>Removed on the primary, and here.</summary>
    public const string Destroyed = "destroyed";

    /// <summary>The primary no longer had it when we asked; not retried.</summary>
    public const string Gone = "gone";

    /// <summary>The last copy failed: retried, then dead-lettered; the same event may overwrite this state.</summary>
    public const string Failed = "failed";
}
