using Geo.Events.Contracts;
using Geo.Events.Core.Repositories;

namespace Geo.Events.Primary.Repositories;

/// <summary>
/// One git repository found in a GitLab repository storage, as its folder name says (the layouts are in
/// <see cref="RepositoryLayout"/>: a project's repository, wiki and design repository under <c>@hashed/</c> or at
/// their legacy paths, snippets under <c>@snippets/</c>, group wikis under <c>@groups/</c>).
/// </summary>
/// <param name="DiskPath">Relative to the storage, '/'-separated.</param>
/// <param name="Kind">Which repository of its owner.</param>
/// <param name="Hash">Hashed storage: the folder's name, sha256 of the owner's id; null in legacy storage.</param>
/// <param name="LegacyPath">Legacy storage: the project's full path; null in hashed storage.</param>
public sealed record StoredRepository(string DiskPath, RepositoryKind Kind, string? Hash, string? LegacyPath)
{
    /// <summary>
    /// What <paramref name="diskPath"/> (a folder ending in <c>.git</c>) holds, or null for what is not replicated:
    /// object pools (<c>@pools/</c>) and names that are not GitLab paths.
    /// </summary>
    public static StoredRepository? Classify(string diskPath) =>
        RepositoryLayout.Classify(diskPath) is var (kind, hash, legacyPath) ? new StoredRepository(diskPath, kind, hash, legacyPath) : null;
}
