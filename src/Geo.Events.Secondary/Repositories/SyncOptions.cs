using Geo.Events.Core.Configuration;
using Microsoft.Extensions.Options;

namespace Geo.Events.Secondary.Repositories;

/// <summary>Section <c>Secondary</c>, the syncs: how many run at once, how pushes coalesce, how long a writer waits for another.</summary>
public sealed class SyncOptions
{
    /// <summary>Shared with the section's other areas (<see cref="SecondaryOptions"/>): the keys are <c>Secondary:ConcurrentSyncs</c> etc.</summary>
    public const string Section = SecondaryOptions.Section;

    /// <summary>How many clones and fetches this instance runs at once.</summary>
    public int ConcurrentSyncs { get; set; } = 4;

    /// <summary>
    /// The least time between the starts of two fetches of one repository. A push that arrives sooner waits
    /// the rest of the window, and that one fetch covers everything pushed meanwhile. An isolated push never waits.
    /// One second, measured (README, Benchmarks): a burst of 100 pushes in a second costs 3 fetches instead of
    /// 5 (500 ms) or 8 (250 ms), while the lag at 100 pushes/s over 100 repositories stays the same.
    /// </summary>
    public TimeSpan CoalesceWindow { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long a sync (or a file copy) waits for another instance's writer of the same repository (or file).</summary>
    public TimeSpan LockTimeout { get; set; } = TimeSpan.FromMinutes(10);

    public sealed class Validator : IValidateOptions<SyncOptions>
    {
        public ValidateOptionsResult Validate(string? name, SyncOptions options) => GeoOptions.Result(Problems(options));

        private static IEnumerable<string> Problems(SyncOptions options)
        {
            if (options.ConcurrentSyncs < 1)
            {
                yield return $"Secondary:ConcurrentSyncs must be at least 1, not {options.ConcurrentSyncs}";
            }
        }
    }
}
