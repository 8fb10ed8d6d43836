using Geo.Events.Contracts;

namespace Geo.Events.Secondary.Repositories;

/// <summary>
/// Deletes mirrors, and what interrupted clones left behind. A mirror is first moved out of sight into
/// <see cref="MirrorLayout.TempRoot"/> (atomic), then deleted, so a kill at any instant leaves it whole or gone
/// from its place. Callers hold the repository's lock.
/// </summary>
public sealed class MirrorRemover(MirrorLayout layout, ILogger<MirrorRemover> logger)
{
    private static readonly TimeSpan StaleTempAge = TimeSpan.FromHours(1);

    /// <summary>Removes the project's mirror of <paramref name="kind"/>, if there is one.</summary>
    public void Delete(long projectId, RepositoryKind kind)
    {
        var data = layout.DataPath(projectId, kind);
        if (!Directory.Exists(data))
        {
            return;
        }

        var doomed = Path.Combine(layout.TempRoot, "deleted-" + Guid.NewGuid().ToString("N") + ".git");
        Directory.Move(data, doomed);
        DeleteTree(doomed);
        logger.LogInformation("Deleted the {Kind} mirror of project {ProjectId}", kind, projectId);
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
