namespace Geo.Events.Primary.Hooks;

/// <summary>Light checks on ref names and object ids from payloads (after git-check-ref-format's rules).</summary>
public static class GitRef
{
    public const int MaxLength = 1024;

    public static bool IsValid(string? name) =>
        name is { Length: > 5 and <= MaxLength }
        && name.StartsWith("refs/", StringComparison.Ordinal)
        && !name.EndsWith('/') && !name.EndsWith(".lock", StringComparison.Ordinal) && !name.EndsWith('.')
        && !name.Contains("..", StringComparison.Ordinal) && !name.Contains("//", StringComparison.Ordinal)
        && !name.Contains("@{", StringComparison.Ordinal)
        && name.All(c => c > ' ' && c != '\x7f' && c is not ('~' or '^' or ':' or '?' or '*' or '[' or '\\'));

    public static bool IsObjectId(string? id) =>
        id is { Length: 40 or 64 } && id.All(char.IsAsciiHexDigitLower);
}
