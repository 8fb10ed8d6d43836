namespace Geo.Events.Secondary.Files;

/// <summary>Section <c>Secondary</c>, files: where this secondary keeps its copies of the primary's files.</summary>
public sealed class FileStoreOptions
{
    /// <summary>Shared with the section's other areas (<see cref="SecondaryOptions"/>): the keys are <c>Secondary:Files:&lt;kind&gt;</c> etc.</summary>
    public const string Section = SecondaryOptions.Section;

    /// <summary>
    /// Where this secondary keeps the primary's files, by kind: <c>upload</c>, <c>lfs_object</c>, <c>avatar</c>.
    /// A kind without a root is not copied (its events fail visibly).
    /// </summary>
    public Dictionary<string, string> Files { get; set; } = [];

    /// <summary>A download that receives nothing for this long is stopped, and resumed on the next try.</summary>
    public TimeSpan DownloadIdleTimeout { get; set; } = TimeSpan.FromSeconds(60);
}
