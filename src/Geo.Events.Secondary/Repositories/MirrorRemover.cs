using Geo.Events.Contracts;
using Geo.Events.Secondary.SafetyNet;

namespace Geo.Events.Secondary.Repositories;

/// <summary>
/// Takes mirrors away, and cleans what interrupted clones left behind. A mirror goes to the trash
/// (<see cref="MirrorTrash"/>, kept for Secondary:DestroyRetention) or, with a retention of zero, is moved out of
/// sight into <see cref="MirrorLayout.TempRoot"/> (atomic) and deleted; either way a kill at any instant leaves it
/// whole or gone from its place. Callers hold the repository's lock.
/// </summary>
public sealed class MirrorRemover(MirrorLayout layout, MirrorTrash trash, ILogger<MirrorRemover> logger)
{
    private static readonly TimeSpan StaleTempAge = TimeSpan.FromHours(1);

    /// <summary>Removes the project's mirror of <paramref name="kind"/>, if there is one, into the trash.</summary>
    /// <param name="path">The readable path it had, for the trash's list.</param>
    public void Delete(long projectId, RepositoryKind kind, string? path = null)
    {
        var data = layout.DataPath(projectId, kind);
        if (!Directory.Exists(data))
        {
            return;
        }

        trash.Discard(data, projectId, MirrorLayout.KindName(kind), path);
        logger.LogInformation("Removed the {Kind} mirror of project {ProjectId}", kind, projectId);
    }

    /// <summary>
    /// At start: creates the temp folder, and removes what a killed clone or deletion left in it an hour or more
    /// ago (younger entries may belong to another instance sharing the root).
    /// </summary>
    public void RemoveAbandonedTemps()
    {
        Directory.CreateDirectory(layout.TempRoot);
        foreach (var entry in new DirectoryInfo(layout.TempRoot).EnumerateDirectories())
        {
            if (DateTime.UtcNow - entry.LastWriteTimeUtc > StaleTempAge)
            {
                logger.LogInformation("Removing abandoned temp mirror {Path}", entry.FullName);
                DeleteTree(entry.FullName);
            }
        }
    }

    /// <summary>Deletes a bare repository's folder.</summary>
    public static void DeleteTree(string path)
    {
        // libgit2 writes pack files read-only; clear the bit so the delete succeeds.
        foreach (var file in Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories))
        {
            File.SetAttributes(file, FileAttributes.Normal);
        }

        Directory.Delete(path, recursive: true);
    }
}
