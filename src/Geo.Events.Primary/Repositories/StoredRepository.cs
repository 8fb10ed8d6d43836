using Geo.Events.Contracts;
using Geo.Events.Core.Paths;

namespace Geo.Events.Primary.Repositories;

/// <summary>
/// One git repository found in a GitLab repository storage, as its folder name says. GitLab's layouts
/// (doc/administration/repository_storage_paths.md): hashed storage keeps a project's repository at
/// <c>@hashed/ab/cd/&lt;sha256(project id)&gt;.git</c>, its wiki at <c>….wiki.git</c> and its design repository at
/// <c>….design.git</c>, with the project's path in the repository's config (<c>gitlab.fullpath</c>); legacy storage
/// keeps them at <c>&lt;full path&gt;.git</c>, <c>.wiki.git</c>, <c>.design.git</c>.
/// </summary>
/// <param name="DiskPath">Relative to the storage, '/'-separated.</param>
/// <param name="Kind">Which of the project's repositories.</param>
/// <param name="Hash">Hashed storage: the folder's name, sha256 of the project id; null in legacy storage.</param>
/// <param name="LegacyPath">Legacy storage: the project's full path; null in hashed storage.</param>
public sealed record StoredRepository(string DiskPath, RepositoryKind Kind, string? Hash, string? LegacyPath)
{
    private const string Hashed = "@hashed/";

    /// <summary>
    /// What <paramref name="diskPath"/> (a folder ending in <c>.git</c>) holds, or null for what is not replicated:
    /// design repositories, snippets (<c>@snippets/</c>), group wikis (<c>@groups/</c>), object pools
    /// (<c>@pools/</c>) and names that are not GitLab paths.
    /// </summary>
    public static StoredRepository? Classify(string diskPath)
    {
        if (!diskPath.EndsWith(".git", StringComparison.Ordinal) || diskPath.EndsWith(".design.git", StringComparison.Ordinal))
        {
            return null;
        }

        var kind = diskPath.EndsWith(".wiki.git", StringComparison.Ordinal) ? RepositoryKind.Wiki : RepositoryKind.Project;
        var stem = diskPath[..^(kind == RepositoryKind.Wiki ? ".wiki.git".Length : ".git".Length)];
        if (stem.StartsWith(Hashed, StringComparison.Ordinal))
        {
            // @hashed/ab/cd/<64 hex>, where ab and cd are the hash's first two bytes.
            var parts = stem[Hashed.Length..].Split('/');
            return parts is [var a, var b, var hash] && hash.Length == 64 && hash.All(char.IsAsciiHexDigitLower)
                   && hash.StartsWith(a + b, StringComparison.Ordinal) && a.Length == 2 && b.Length == 2
                ? new StoredRepository(diskPath, kind, hash, null)
                : null;
        }

        return stem.StartsWith('@') || ProjectPath.Problem(stem) is not null ? null : new StoredRepository(diskPath, kind, null, stem);
    }

    /// <summary>
    /// The project's path from <c>gitlab.fullpath</c>: GitLab writes the container's full path there, which for a
    /// wiki ends in <c>.wiki</c>. Null when it is missing or not a valid project path.
    /// </summary>
    public static string? ProjectPathFromConfig(string? fullPath, RepositoryKind kind)
    {
        if (fullPath is null)
        {
            return null;
        }

        if (kind == RepositoryKind.Wiki && fullPath.EndsWith(".wiki", StringComparison.Ordinal))
        {
            fullPath = fullPath[..^".wiki".Length];
        }

        return ProjectPath.Problem(fullPath) is null ? fullPath : null;
    }
}
