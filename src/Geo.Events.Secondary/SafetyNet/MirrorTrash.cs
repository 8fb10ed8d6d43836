using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using Geo.Events.Core.Storage;
using Geo.Events.Secondary.Repositories;
using Microsoft.Extensions.Options;

namespace Geo.Events.Secondary.SafetyNet;

/// <summary>
/// The trash: destroyed mirrors kept under <c>&lt;MirrorRoot&gt;/@trash/</c> for Secondary:DestroyRetention, then
/// purged. It works on a mirror's folder, whatever the repository's type: a note (<see cref="NoteFile"/>) is written
/// into the folder, then the folder is renamed into the trash (same file system: atomic, so a kill leaves it at its
/// place or in the trash, never half). Purging renames an entry into the temp folder, then deletes it. No project
/// path can start with <c>@</c> (GitLab's path rule), so the trash never collides with a readable path, and
/// verification, serving and the inventory, which go by project id and readable paths, never see it.
/// </summary>
public sealed class MirrorTrash(MirrorLayout layout, IOptions<SafetyNetOptions> options, ILogger<MirrorTrash> logger)
{
    public const string Folder = "@trash";

    /// <summary>Written into a mirror's folder before it moves into the trash; git ignores it.</summary>
    public const string NoteFile = "geo-trash.json";

    private const string StampFormat = "yyyyMMdd'T'HHmmssfff'Z'";
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly ConcurrentDictionary<string, long> _sizes = new();

    /// <summary>What the trash knows of an entry: whose mirror it was, of which kind, at which readable path.</summary>
    public sealed record Note(long ProjectId, string Kind, string? Path);

    /// <summary>One entry: its folder's name (<c>&lt;UTC stamp&gt;-&lt;project id&gt;-&lt;kind&gt;-&lt;random&gt;.git</c>) and note.</summary>
    public sealed record Entry(string Name, string FullPath, DateTimeOffset TrashedAt, Note Note);

    public string Root => Path.Combine(layout.Root, Folder);

    public TimeSpan Retention => options.Value.DestroyRetention;

    /// <summary>
    /// Takes a mirror's folder out of sight: into the trash, or deleted at once when Secondary:DestroyRetention is
    /// zero. Nothing happens when the folder does not exist. Callers hold the repository's lock and have removed its
    /// readable link.
    /// </summary>
    public void Discard(string mirrorFolder, long projectId, string kind, string? path)
    {
        if (!Directory.Exists(mirrorFolder))
        {
            return;
        }

        if (Retention <= TimeSpan.Zero)
        {
            DeleteNow(mirrorFolder);
            return;
        }

        var now = DateTimeOffset.UtcNow;
        var name = $"{now.UtcDateTime.ToString(StampFormat, CultureInfo.InvariantCulture)}-{projectId.ToString(CultureInfo.InvariantCulture)}-{kind}-{Guid.NewGuid().ToString("N")[..8]}.git";
        WriteNote(mirrorFolder, new Note(projectId, kind, path));
        Directory.CreateDirectory(Root);
        Directory.Move(mirrorFolder, Path.Combine(Root, name));
        Posix.SyncDirectory(Root);
        logger.LogInformation("Moved the {Kind} mirror of project {ProjectId} ({Path}) to the trash as {Name}; kept until {PurgeAt:u}", kind, projectId, path, name, now + Retention);
    }

    /// <summary>Every entry, newest first. An entry without a readable note still shows, with what its name says.</summary>
    public IReadOnlyList<Entry> Entries()
    {
        if (!Directory.Exists(Root))
        {
            return [];
        }

        var entries = new List<Entry>();
        foreach (var folder in new DirectoryInfo(Root).EnumerateDirectories())
        {
            if (folder.LinkTarget is null && Parse(folder.Name) is { } parsed)
            {
                entries.Add(new Entry(folder.Name, folder.FullName, parsed.At, ReadNote(folder.FullName) ?? new Note(parsed.ProjectId, parsed.Kind, null)));
            }
        }

        return entries.OrderByDescending(e => e.TrashedAt).ThenByDescending(e => e.Name, StringComparer.Ordinal).ToList();
    }

    /// <summary>The folder's size in bytes, measured once per entry.</summary>
    public long SizeOf(Entry entry) => _sizes.GetOrAdd(entry.Name, _ =>
    {
        try
        {
            return new DirectoryInfo(entry.FullPath).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length);
        }
        catch (IOException)
        {
            return 0;
        }
    });

    /// <summary>Moves an entry back to <paramref name="mirrorFolder"/> (atomic) and removes its note. Callers hold the lock.</summary>
    public void Restore(Entry entry, string mirrorFolder)
    {
        if (Directory.Exists(mirrorFolder))
        {
            throw new IOException($"{mirrorFolder} already exists: project {entry.Note.ProjectId} has a {entry.Note.Kind} mirror here");
        }

        Directory.CreateDirectory(Path.GetDirectoryName(mirrorFolder)!);
        Directory.Move(entry.FullPath, mirrorFolder);
        Posix.SyncDirectory(Path.GetDirectoryName(mirrorFolder)!);
        File.Delete(Path.Combine(mirrorFolder, NoteFile));
        _sizes.TryRemove(entry.Name, out _);
        logger.LogInformation("Restored the {Kind} mirror of project {ProjectId} from the trash ({Name})", entry.Note.Kind, entry.Note.ProjectId, entry.Name);
    }

    /// <summary>Purges the entries older than Secondary:DestroyRetention; returns how many.</summary>
    public int PurgeExpired()
    {
        var purged = 0;
        var now = DateTimeOffset.UtcNow;
        foreach (var entry in Entries().Where(e => now - e.TrashedAt >= Retention))
        {
            try
            {
                DeleteNow(entry.FullPath);
                _sizes.TryRemove(entry.Name, out _);
                purged++;
                logger.LogInformation("Purged {Name} from the trash (the {Kind} mirror of project {ProjectId}, kept since {TrashedAt:u})", entry.Name, entry.Note.Kind, entry.Note.ProjectId, entry.TrashedAt);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                logger.LogWarning("Could not purge {Name} from the trash: {Error}", entry.Name, e.Message);
            }
        }

        return purged;
    }

    /// <summary>Out of sight in one rename (into the temp folder), then deleted: a kill leaves it whole or gone from its place.</summary>
    private void DeleteNow(string folder)
    {
        var doomed = Path.Combine(layout.TempRoot, "deleted-" + Guid.NewGuid().ToString("N") + ".git");
        Directory.CreateDirectory(layout.TempRoot);
        Directory.Move(folder, doomed);
        MirrorRemover.DeleteTree(doomed);
    }

    private static (DateTimeOffset At, long ProjectId, string Kind)? Parse(string name)
    {
        var parts = name.Split('-');
        return parts.Length >= 4 && name.EndsWith(".git", StringComparison.Ordinal)
               && DateTimeOffset.TryParseExact(parts[0], StampFormat, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)
               && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var id)
            ? (at, id, string.Join('-', parts[2..^1])) // a kind may hold a '-' (group-wiki)
            : null;
    }

    private static void WriteNote(string folder, Note note)
    {
        var temp = Path.Combine(folder, $".{NoteFile}.{Guid.NewGuid():N}.tmp");
        File.WriteAllText(temp, JsonSerializer.Serialize(note, Json));
        File.Move(temp, Path.Combine(folder, NoteFile), overwrite: true);
    }

    private static Note? ReadNote(string folder)
    {
        try
        {
            return JsonSerializer.Deserialize<Note>(File.ReadAllText(Path.Combine(folder, NoteFile)), Json);
        }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
