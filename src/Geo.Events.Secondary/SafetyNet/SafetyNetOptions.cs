using Geo.Events.Core.Configuration;
using Microsoft.Extensions.Options;

namespace Geo.Events.Secondary.SafetyNet;

/// <summary>
/// Section <c>Secondary</c>, the safety net: how long destroyed mirrors and overwritten history are kept, and when a
/// burst of destroys is held for an admin.
/// </summary>
public sealed class SafetyNetOptions
{
    /// <summary>Shared with the section's other areas (<see cref="SecondaryOptions"/>): the keys are <c>Secondary:DestroyRetention</c> etc.</summary>
    public const string Section = SecondaryOptions.Section;

    /// <summary>How long a destroyed mirror is kept in <c>&lt;MirrorRoot&gt;/@trash/</c>; zero deletes at once.</summary>
    public TimeSpan DestroyRetention { get; set; } = TimeSpan.FromDays(7);

    /// <summary>Destroys within <see cref="DestroyGuardWindow"/> beyond this share (percent) of the secondary's projects trip the guard; 0 turns this rule off.</summary>
    public double DestroyGuardPercent { get; set; } = 5;

    /// <summary>Destroys within <see cref="DestroyGuardWindow"/> beyond this count trip the guard; 0 turns this rule off.</summary>
    public int DestroyGuardCount { get; set; } = 100;

    public TimeSpan DestroyGuardWindow { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How long the old tip of a ref a sync moved non-fast-forward, or deleted, stays in <c>refs/geo-attic/</c>.</summary>
    public TimeSpan OverwriteRetention { get; set; } = TimeSpan.FromDays(14);

    public sealed class Validator : IValidateOptions<SafetyNetOptions>
    {
        public ValidateOptionsResult Validate(string? name, SafetyNetOptions options) => GeoOptions.Result(Problems(options));

        private static IEnumerable<string> Problems(SafetyNetOptions options)
        {
            foreach (var (setting, value) in new[] { ("DestroyRetention", options.DestroyRetention), ("DestroyGuardWindow", options.DestroyGuardWindow), ("OverwriteRetention", options.OverwriteRetention) })
            {
                if (value < TimeSpan.Zero)
                {
                    yield return $"Secondary:{setting} must not be negative, not {value}";
                }
            }

            if (options.DestroyGuardPercent is < 0 or > 100 || double.IsNaN(options.DestroyGuardPercent))
            {
                yield return $"Secondary:DestroyGuardPercent must be between 0 (off) and 100, not {options.DestroyGuardPercent}";
            }

            if (options.DestroyGuardCount < 0)
            {
                yield return $"Secondary:DestroyGuardCount must be 0 (off) or more, not {options.DestroyGuardCount}";
            }
        }
    }
}
