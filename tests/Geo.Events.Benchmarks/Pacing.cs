using System.Diagnostics;

namespace Geo.Events.Benchmarks;

/// <summary>Paces a driver that sends its n-th request at a planned moment after its clock started.</summary>
public static class Pacing
{
    /// <summary>
    /// Waits until <paramref name="clock"/> reaches <paramref name="due"/>, or not at all when it already has. The clock
    /// is read once: read twice, it can pass the moment in between, and a negative delay throws.
    /// </summary>
    public static Task UntilAsync(Stopwatch clock, TimeSpan due)
    {
        var wait = due - clock.Elapsed;
        return wait > TimeSpan.Zero ? Task.Delay(wait) : Task.CompletedTask;
    }
}
