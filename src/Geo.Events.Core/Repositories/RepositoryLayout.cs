using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Geo.Events.Contracts;
using Geo.Events.Core.Paths;

namespace Geo.Events.Core.Repositories;

/// <summary>
/// The one place that says, for each <see cref="RepositoryKind"/>, where GitLab stores the repository, what its
/// owner is, what its path is called, and where a secondary keeps its mirror. Everything else asks here instead of
/// switching on the kind.
/// </summary>
/// <remarks>
/// GitLab's layouts (doc/administration/repository_storage_paths.md, app/models/storage/hashed.rb,
/// lib/gitlab/gl_repository.rb): hashed storage keeps a project's repository at
/// <c>@hashed/ab/cd/&lt;sha256(project id)&gt;.git</c>, its wiki at <c>….wiki.git</c>, its design repository at
/// <c>….design.git</c> (repo type <c>design</c>, suffix <c>.design</c>); a snippet at
/// <c>@snippets/ab/cd/&lt;sha256(snippet id)&gt;.git</c> (<c>SNIPPET_REPOSITORY_PATH_PREFIX</c>); a group's wiki at
/// <c>@groups/ab/cd/&lt;sha256(group id)&gt;.wiki.git</c> (<c>GROUP_REPOSITORY_PATH_PREFIX</c>). The legacy layout
/// (removed in GitLab 14.0) kept a project's three repositories at <c>&lt;full path&gt;.git</c>, <c>.wiki.git</c>,
/// <c>.design.git</c>; snippets and group wikis came after it and were only ever hashed. GitLab writes the
/// repository's full path into its config (<c>gitlab.fullpath</c>): <c>group/project</c>, <c>group/project.wiki</c>,
/// <c>group/project.design</c>, <c>group.wiki</c>, <c>snippets/&lt;id&gt;</c> or <c>group/project/snippets/&lt;id&gt;</c>.
/// </remarks>
public static class RepositoryLayout
{
    /// <summary>Every kind, in the order locks are taken.</summary>
    public static readonly IReadOnlyList<RepositoryKind> All =
        [RepositoryKind.Project, RepositoryKind.Wiki, RepositoryKind.Design, RepositoryKind.Snippet, RepositoryKind.GroupWiki];

    /// <summary>The repositories a project owns: they move and die with it.</summary>
    public static readonly IReadOnlyList<RepositoryKind> ProjectKinds = [RepositoryKind.Project, RepositoryKind.Wiki, RepositoryKind.Design];

    private sealed record Shape(string Prefix, string Suffix, string PathSuffix, string Label);

    private static Shape Of(RepositoryKind kind) => kind switch
    {
        RepositoryKind.Project => new("@hashed", ".git", "", "project"),
        RepositoryKind.Wiki => new("@hashed", ".wiki.git", ".wiki", "wiki"),
        RepositoryKind.Design => new("@hashed", ".design.git", ".design", "design"),
        RepositoryKind.Snippet => new("@snippets", ".git", "", "snippet"),
        RepositoryKind.GroupWiki => new("@groups", ".wiki.git", ".wiki", "group_wiki"),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "not a repository kind this version knows"),
    };

    /// <summary>The folder GitLab's snippets are kept in, and the secondary's readable links to them.</summary>
    public const string SnippetFolder = "@snippets";

    /// <summary>A name for logs, metrics labels and status: project, wiki, design, snippet, group_wiki.</summary>
    public static string Label(RepositoryKind kind) => Of(kind).Label;

    /// <summary>The kind named by its <see cref="Label"/>; null for a name no kind has.</summary>
    public static RepositoryKind? FromLabel(string? label) => All.Cast<RepositoryKind?>().FirstOrDefault(k => Label(k!.Value) == label);

    /// <summary>True for a kind this version knows (an event from a newer primary may carry one it does not).</summary>
    public static bool IsKnown(RepositoryKind kind) => All.Contains(kind);

    /// <summary>The kinds that share an owner with <paramref name="kind"/> (a project's three, or the kind alone).</summary>
    public static IReadOnlyList<RepositoryKind> Siblings(RepositoryKind kind) => ProjectKinds.Contains(kind) ? ProjectKinds : [kind];

    /// <summary>
    /// What the repository's path is: a project's path with namespace (project, wiki, design), a group's full path
    /// (group wiki), or the snippet's full path (<c>snippets/&lt;id&gt;</c>, <c>group/project/snippets/&lt;id&gt;</c>).
    /// </summary>
    public static string? PathProblem(RepositoryKind kind, string? path) =>
        kind == RepositoryKind.GroupWiki ? ProjectPath.NamespaceProblem(path) : ProjectPath.Problem(path);

    /// <summary>
    /// True when a secondary whose Secondary:Namespaces are <paramref name="namespaces"/> mirrors the repository: a
    /// snippet always (personal snippets belong to no namespace), a group wiki when its group is one of them or below
    /// one, the rest when their project is.
    /// </summary>
    public static bool IsSelected(RepositoryKind kind, string path, IReadOnlyCollection<string> namespaces) => kind switch
    {
        RepositoryKind.Snippet => true,
        RepositoryKind.GroupWiki => namespaces.Count == 0 || namespaces.Contains(path) || ProjectPath.IsIn(path, namespaces),
        _ => ProjectPath.IsIn(path, namespaces),
    };

    /// <summary><c>sha256</c> of the id in lower-case hex, as GitLab's hashed storage names folders.</summary>
    public static string HashedName(long id) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(id.ToString(CultureInfo.InvariantCulture))));

    /// <summary>Where GitLab's hashed storage keeps the repository, relative and '/'-separated.</summary>
    public static string HashedPath(RepositoryKind kind, long ownerId)
    {
        var shape = Of(kind);
        var hash = HashedName(ownerId);
        return $"{shape.Prefix}/{hash[..2]}/{hash[2..4]}/{hash}{shape.Suffix}";
    }

    /// <summary>
    /// The readable name of the repository relative to a secondary's Secondary:MirrorRoot, '/'-separated: project
    /// <c>&lt;path&gt;.git</c>, wiki <c>&lt;path&gt;.wiki.git</c>, design <c>&lt;path&gt;.design.git</c>, group wiki
    /// <c>&lt;group full path&gt;.wiki.git</c>, snippet <c>@snippets/&lt;snippet id&gt;.git</c>.
    /// </summary>
    public static string MirrorName(RepositoryKind kind, long ownerId, string path) => kind == RepositoryKind.Snippet
        ? $"{SnippetFolder}/{ownerId.ToString(CultureInfo.InvariantCulture)}.git"
        : path + Of(kind).Suffix;

    /// <summary>What follows the path in the primary's git URL (<c>&lt;primary&gt;/&lt;path&gt;&lt;suffix&gt;</c>), as GitLab serves it.</summary>
    public static string RemoteSuffix(RepositoryKind kind) => Of(kind).Suffix;

    /// <summary>
    /// What a folder in GitLab's storage (relative, '/'-separated, ending in <c>.git</c>) holds: its kind and either
    /// the hash of its owner's id (hashed storage) or its owner's path (legacy storage). Null for what is not
    /// replicated (object pools under <c>@pools/</c>, other <c>@</c> folders, names that are not GitLab paths).
    /// </summary>
    public static (RepositoryKind Kind, string? Hash, string? LegacyPath)? Classify(string diskPath)
    {
        if (!diskPath.EndsWith(".git", StringComparison.Ordinal))
        {
            return null;
        }

        if (diskPath.StartsWith('@'))
        {
            foreach (var kind in All)
            {
                var shape = Of(kind);
                // A project's repository (.git) must not claim its wiki (.wiki.git) or design repository: the longer suffix wins.
                if (!diskPath.StartsWith(shape.Prefix + "/", StringComparison.Ordinal) || !diskPath.EndsWith(shape.Suffix, StringComparison.Ordinal)
                    || (kind == RepositoryKind.Project && (diskPath.EndsWith(".wiki.git", StringComparison.Ordinal) || diskPath.EndsWith(".design.git", StringComparison.Ordinal))))
                {
                    continue;
                }

                // <prefix>/ab/cd/<64 hex>, where ab and cd are the hash's first two bytes.
                var parts = diskPath[(shape.Prefix.Length + 1)..^shape.Suffix.Length].Split('/');
                return parts is [var a, var b, var hash] && hash.Length == 64 && hash.All(char.IsAsciiHexDigitLower)
                       && a.Length == 2 && b.Length == 2 && hash.StartsWith(a + b, StringComparison.Ordinal)
                    ? (kind, hash, null)
                    : null;
            }

            return null;
        }

        foreach (var kind in new[] { RepositoryKind.Wiki, RepositoryKind.Design, RepositoryKind.Project })
        {
            var suffix = Of(kind).Suffix;
            if (diskPath.EndsWith(suffix, StringComparison.Ordinal))
            {
                var stem = diskPath[..^suffix.Length];
                return ProjectPath.Problem(stem) is null ? (kind, null, stem) : null;
            }
        }

        return null;
    }

    /// <summary>
    /// The repository's path from its <c>gitlab.fullpath</c> (without the <c>.wiki</c> / <c>.design</c> GitLab writes
    /// there for those kinds); null when it is missing or not a valid path of that kind.
    /// </summary>
    public static string? PathFromConfig(string? fullPath, RepositoryKind kind)
    {
        if (fullPath is null)
        {
            return null;
        }

        var pathSuffix = Of(kind).PathSuffix;
        if (pathSuffix.Length > 0 && fullPath.EndsWith(pathSuffix, StringComparison.Ordinal))
        {
            fullPath = fullPath[..^pathSuffix.Length];
        }

        return PathProblem(kind, fullPath) is null ? fullPath : null;
    }
}
