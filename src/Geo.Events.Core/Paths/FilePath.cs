using System.Text.RegularExpressions;
using Geo.Events.Contracts;

namespace Geo.Events.Core.Paths;

/// <summary>
/// A file's path relative to its kind's storage root (uploads, LFS objects, avatars), checked on both sides
/// before it is joined to a root: '/'-separated segments of ASCII letters, digits and <c>_ . @ + = -</c>, no
/// segment that is empty, <c>.</c> or <c>..</c> or starts with '.', no backslash, NUL or other control
/// character; and after joining, still under the root with no symbolic link on the way.
/// </summary>
public static partial class FilePath
{
    public const int MaxLength = 4096;
    public const int MaxSegments = 32;
    public const int MaxSegmentLength = 255;

    [GeneratedRegex(@"^[A-Za-z0-9_@+=\-][A-Za-z0-9_.@+=\-]*\z", RegexOptions.CultureInvariant)]
    private static partial Regex SegmentPattern();

    /// <summary>The names used in events, settings and URLs: upload, lfs_object, avatar.</summary>
    public static string Name(FileKind kind) => kind switch
    {
        FileKind.Upload => "upload",
        FileKind.LfsObject => "lfs_object",
        FileKind.Avatar => "avatar",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    public static FileKind? Parse(string? name) => name switch
    {
        "upload" => FileKind.Upload,
        "lfs_object" => FileKind.LfsObject,
        "avatar" => FileKind.Avatar,
        _ => null,
    };

    /// <summary>Null when <paramref name="path"/> is acceptable, else why not.</summary>
    public static string? Problem(string? path)
    {
        if (string.IsNullOrEmpty(path))
        {
            return "is empty";
        }

        if (path.Length > MaxLength)
        {
            return $"is longer than {MaxLength} characters";
        }

        if (path.Any(char.IsControl))
        {
            return "contains a control character";
        }

        if (path.Contains('\\'))
        {
            return "contains a backslash";
        }

        if (path.StartsWith('/'))
        {
            return "must be relative to the storage root, not absolute";
        }

        var segments = path.Split('/');
        if (segments.Length > MaxSegments)
        {
            return $"has more than {MaxSegments} segments";
        }

        foreach (var segment in segments)
        {
            if (segment is "" or "." or "..")
            {
                return $"has a '{segment}' segment";
            }

            if (segment.Length > MaxSegmentLength)
            {
                return $"has a segment longer than {MaxSegmentLength} characters";
            }

            if (!SegmentPattern().IsMatch(segment))
            {
                return $"segment '{Printable(segment)}' may only hold ASCII letters, digits and _ . @ + = -, and must not start with '.'";
            }
        }

        return null;
    }

    /// <summary>The absolute path of <paramref name="path"/> under <paramref name="root"/>; throws when it is not acceptable or passes through a link.</summary>
    public static string ResolveUnder(string root, string path)
    {
        if (Problem(path) is { } problem)
        {
            throw new InvalidFilePathException(path, problem);
        }

        var fullRoot = Path.GetFullPath(root);
        var candidate = Path.GetFullPath(Path.Combine(fullRoot, path));
        if (!candidate.StartsWith(fullRoot.TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new InvalidFilePathException(path, "resolves outside the storage root");
        }

        var current = fullRoot;
        foreach (var part in path.Split('/'))
        {
            current = Path.Combine(current, part);
            if (new FileInfo(current).LinkTarget is not null)
            {
                throw new InvalidFilePathException(path, "passes through a symbolic link in the storage root");
            }
        }

        return candidate;
    }

    private static string Printable(string value) => new(value.Take(64).Select(c => char.IsControl(c) || c > '\x7e' ? '?' : c).ToArray());
}

public sealed class InvalidFilePathException(string path, string reason)
    : PermanentFailureException($"file path {(path.Length > 80 ? path[..80] + "…" : path)} {reason}")
{
    public string Reason { get; } = reason;
}
