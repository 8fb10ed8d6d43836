using FluentValidation;
using Geo.Events.Contracts;
using Geo.Events.Core.Paths;

namespace Geo.Events.Primary.Hooks.Kinds;

/// <summary>
/// <c>upload_create</c>, <c>lfs_object_destroy</c> and the like: a file under one of GitLab's file stores, by its
/// path relative to the store's root.
/// </summary>
internal static class FileHooks
{
    /// <summary>Files up to 1 TiB; GitLab's own limits are far lower.</summary>
    public const long MaxFileSize = 1L << 40;

    public static HookKind Create(string name, FileKind kind) => new(name, v =>
    {
        PathRules(v, kind);
        v.RuleFor(p => p.Size).NotNull().WithMessage("'size' is required")
            .InclusiveBetween(0, MaxFileSize).WithMessage($"'size' must be between 0 and {MaxFileSize} bytes");
        v.RuleFor(p => p.Sha256).Must(s => s is { Length: 64 } && s.All(c => c is >= '0' and <= '9' or >= 'a' and <= 'f'))
            .WithMessage("'sha256' must be 64 lowercase hex digits");
    }, (payload, stamp) => new FileCreated
    {
        EventId = stamp.EventId,
        Sequence = 0,
        OccurredAt = stamp.OccurredAt,
        Kind = kind,
        Path = payload.Path!,
        Size = payload.Size!.Value,
        Sha256 = payload.Sha256!,
    });

    public static HookKind Destroy(string name, FileKind kind) => new(name, v => PathRules(v, kind), (payload, stamp) => new FileDestroyed
    {
        EventId = stamp.EventId,
        Sequence = 0,
        OccurredAt = stamp.OccurredAt,
        Kind = kind,
        Path = payload.Path!,
    });

    /// <summary>
    /// A path that is well-formed text, and, where geo-primary knows the kind's store, that does not pass
    /// through a symbolic link in it.
    /// </summary>
    private static void PathRules(SystemHookValidator v, FileKind kind) =>
        v.RuleFor(p => p.Path).Custom((path, context) =>
        {
            if (FilePath.Problem(path) is { } problem)
            {
                context.AddFailure("path", $"'path' {problem}");
                return;
            }

            if (v.FileRoots.TryGetValue(kind, out var root) && !string.IsNullOrEmpty(root))
            {
                try
                {
                    FilePath.ResolveUnder(root, path!);
                }
                catch (InvalidFilePathException e)
                {
                    context.AddFailure("path", $"'path' {e.Reason}");
                }
            }
        });
}
