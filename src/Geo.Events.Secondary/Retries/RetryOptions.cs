using Geo.Events.Core.Configuration;
using Geo.Events.Core.Messaging;
using Microsoft.Extensions.Options;

namespace Geo.Events.Secondary.Retries;

/// <summary>Section <c>Retry</c>: how a failing event is tried again before it is dead-lettered.</summary>
public sealed class RetryOptions
{
    public const string Section = "Retry";

    /// <summary>Quick retries in process, while the consumer holds the message: comma-separated durations.</summary>
    public string Immediate { get; set; } = "200ms,1s,3s";

    /// <summary>
    /// Redeliveries after that, each waiting in a TTL queue on the broker (so they survive a restart and hold
    /// no consumer): comma-separated durations. After the last one the message goes to the error queue.
    /// </summary>
    public string Delays { get; set; } = "10s,1m,10m,1h";

    private TimeSpan[]? _immediateIntervals;
    private TimeSpan[]? _delayIntervals;

    /// <summary><see cref="Immediate"/> parsed, once: at start, by the <see cref="Validator"/>.</summary>
    public TimeSpan[] ImmediateIntervals => _immediateIntervals ??= Durations.ParseList(Immediate);

    /// <summary><see cref="Delays"/> parsed, once: at start, by the <see cref="Validator"/>.</summary>
    public TimeSpan[] DelayIntervals => _delayIntervals ??= Durations.ParseList(Delays);

    public sealed class Validator : IValidateOptions<RetryOptions>
    {
        public ValidateOptionsResult Validate(string? name, RetryOptions options) => GeoOptions.Result(
            new[] { ParseProblem("Retry:Immediate", () => options.ImmediateIntervals), ParseProblem("Retry:Delays", () => options.DelayIntervals) }.OfType<string>());

        private static string? ParseProblem(string setting, Func<TimeSpan[]> parse)
        {
            try
            {
                _ = parse();
                return null;
            }
            catch (FormatException e)
            {
                return $"{setting}: {e.Message}";
            }
        }
    }
}
