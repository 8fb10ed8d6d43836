using FluentValidation;

namespace Geo.Events.Primary.Hooks;

/// <summary>
/// The rules a replicated hook must meet before it may enter the event log: each kind's own rules from
/// <see cref="HookKinds"/>, applied to the payloads of that kind only.
/// </summary>
public sealed class SystemHookValidator : AbstractValidator<SystemHookPayload>
{
    /// <param name="fileRoots">
    /// The file stores geo-primary serves (Primary:Files): a file event's path must not pass through a
    /// symbolic link in its root. Without roots, paths are checked by their text alone.
    /// </param>
    public SystemHookValidator(IReadOnlyDictionary<Contracts.FileKind, string>? fileRoots = null)
    {
        FileRoots = fileRoots ?? new Dictionary<Contracts.FileKind, string>();
        foreach (var kind in HookKinds.Replicated.Values)
        {
            When(p => p.Kind == kind.Name, () => kind.Rules(this));
        }
    }

    /// <summary>The file stores' roots by kind, for the rules of file events.</summary>
    public IReadOnlyDictionary<Contracts.FileKind, string> FileRoots { get; }
}
