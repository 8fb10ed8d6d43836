using System.Text.RegularExpressions;

namespace Geo.Events.Core.Paths;

/// <summary>
/// GitLab's <c>path_with_namespace</c>, checked against a strict pattern before it is ever joined to a
/// storage root. Both sides use it: geo-primary rejects a bad path at ingest, and geo-secondary refuses it
/// again, so a replayed or forged message cannot make a mirror land outside its root.
/// </summary>
public static partial class ProjectPath
{
    /// <summary>
    /// GitLab allows a group 20 ancestors (<c>Namespace::NUMBER_OF_ANCESTORS_ALLOWED</c>, app/models/namespace.rb): 21
    /// levels of groups, plus the project itself.
    /// </summary>
    public const int MaxSegments = 22;

    /// <summary>A namespace (a group's full path) has at most 21 segments.</summary>
    public const int MaxNamespaceSegments = MaxSegments - 1;

    public const int MaxLength = 1024;

    /// <summary>GitLab's <c>Namespace::URL_MAX_LENGTH</c>.</summary>
    public const int MaxSegmentLength = 255;

    /// <summary>geo-secondary's own staging folder under its mirror root: no namespace may take its name.</summary>
    public const string ReservedTopLevel = ".tmp";

    // GitLab's Gitlab::PathRegex: a path starts with an ASCII letter, digit, '_' or '.', goes on with those and '-',
    // and does not end in '.git' or '.atom' (PATH_REGEX_STR and NO_SUFFIX_REGEX; namespaces are a little stricter, they
    // may not end in '.', but older GitLab versions allowed it and the difference is harmless on disk). ASCII only, so
    // no look-alike characters. Our own safety rules come on top: no '.' or '..' segment, nothing but '/' between
    // segments, and the staging folder's name is taken.
    [GeneratedRegex(@"^[A-Za-z0-9_.][A-Za-z0-9_.\-]*\z", RegexOptions.CultureInvariant)]
    private static partial Regex SegmentPattern();

    /// <summary>Returns null when <paramref name="path"/> is a valid project path, else the reason it is not.</summary>
    public static string? Problem(string? path) => Check(path, minSegments: 2, MaxSegments);

    /// <summary>Returns null when <paramref name="path"/> is a valid namespace (a group path such as <c>platform/tools</c>), else why not.</summary>
    public static string? NamespaceProblem(string? path) => Check(path, minSegments: 1, MaxNamespaceSegments);

    /// <summary>True when the project at <paramref name="path"/> lies in one of <paramref name="namespaces"/>; every project does when there are none.</summary>
    public static bool IsIn(string path, IReadOnlyCollection<string> namespaces) =>
        namespaces.Count == 0 || namespaces.Any(ns => path.StartsWith(ns + "/", StringComparison.Ordinal));

    private static string? Check(string? path, int minSegments, int maxSegments)
    {
        if (string.IsNullOrEmpty(path))
        {
            return "is empty";
        }

        if (path.Length > MaxLength)
        {
            return $"is longer than {MaxLength} characters";
        }

        var segments = path.Split('/');
        if (segments.Length < minSegments)
        {
            return "must be namespace/project";
        }

        if (segments.Length > maxSegments)
        {
            return $"has more than {maxSegments} segments (GitLab allows 20 ancestor groups)";
        }

        foreach (var segment in segments)
        {
            if (segment.Length == 0)
            {
                return "has an empty segment (leading, trailing or doubled '/')";
            }

            if (segment.Length > MaxSegmentLength)
            {
                return $"has a segment longer than {MaxSegmentLength} characters";
            }

            if (segment is "." or "..")
            {
                return $"has a segment '{segment}'";
            }

            if (!SegmentPattern().IsMatch(segment))
            {
                return $"segment '{Printable(segment)}' may only hold ASCII letters, digits, '_', '-' and '.', and must not start with '-'";
            }

            if (segment.EndsWith(".git", StringComparison.OrdinalIgnoreCase) || segment.EndsWith(".atom", StringComparison.OrdinalIgnoreCase))
            {
                return $"segment '{segment}' must not end in .git or .atom";
            }
        }

        if (segments[0] == ReservedTopLevel)
        {
            return $"starts with '{ReservedTopLevel}', the folder geo-secondary stages mirrors in";
        }

        return null;
    }

    /// <summary>
    /// Joins a validated path to <paramref name="root"/> with <paramref name="suffix"/> (".git", ".wiki.git")
    /// and proves the result is still under the root, with no symbolic link on the way (with
    /// <paramref name="allowFinalLink"/>, the result itself may be a link: the caller made it and checks its target).
    /// </summary>
    public static string ResolveUnder(string root, string path, string suffix, bool allowFinalLink = false)
    {
        var problem = Problem(path);
        if (problem is not null)
        {
            throw new InvalidProjectPathException(path, problem);
        }

        var fullRoot = Path.GetFullPath(root);
        var candidate = Path.GetFullPath(Path.Combine(fullRoot, path + suffix));
        var rootWithSeparator = Path.EndsInDirectorySeparator(fullRoot) ? fullRoot : fullRoot + Path.DirectorySeparatorChar;
        if (!candidate.StartsWith(rootWithSeparator, StringComparison.Ordinal))
        {
            throw new InvalidProjectPathException(path, "resolves outside the storage root");
        }

        // A link anywhere below the root could point outside it: refuse rather than follow.
        var current = fullRoot;
        var parts = Path.GetRelativePath(fullRoot, candidate).Split(Path.DirectorySeparatorChar);
        foreach (var part in allowFinalLink ? parts[..^1] : parts)
        {
            current = Path.Combine(current, part);
            var info = new DirectoryInfo(current);
            if (info.Exists && info.LinkTarget is not null)
            {
                throw new InvalidProjectPathException(path, "passes through a symbolic link in the storage root");
            }
        }

        return candidate;
    }

    private static string Printable(string value)
    {
        var chars = value.Take(64).Select(c => char.IsControl(c) ? '?' : c).ToArray();
        return new string(chars);
    }
}

public sealed class InvalidProjectPathException(string path, string reason)
    : PermanentFailureException($"project path {(path.Length > 80 ? path[..80] + "…" : path)} {reason}")
{
    public string Reason { get; } = reason;
}
