using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Geo.Events.Core.Configuration;

/// <summary>
/// How every service binds and checks its settings: each options class is bound once from its configuration
/// section and checked by its <see cref="IValidateOptions{TOptions}"/> when the service starts
/// (<see cref="SettingsAreValid"/>), so a bad setting stops the start with a message that names it, before
/// the service waits for PostgreSQL or RabbitMQ.
/// </summary>
public static class GeoOptions
{
    /// <summary>What a process exits with when a setting is bad: <c>EX_CONFIG</c> from sysexits.h.</summary>
    public const int BadSettingsExitCode = 78;

    /// <summary>Binds <typeparamref name="TOptions"/> to <paramref name="section"/>, checked at start by <typeparamref name="TValidator"/>.</summary>
    public static OptionsBuilder<TOptions> AddValidatedOptions<TOptions, TValidator>(this IServiceCollection services, string section)
        where TOptions : class
        where TValidator : class, IValidateOptions<TOptions>
    {
        services.AddSingleton<IValidateOptions<TOptions>, TValidator>();
        return services.AddOptions<TOptions>().BindConfiguration(section).ValidateOnStart();
    }

    /// <summary>A validator's result: success when there is no problem, else one failure per problem.</summary>
    public static ValidateOptionsResult Result(IEnumerable<string> problems)
    {
        var list = problems.ToList();
        return list.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(list);
    }

    /// <summary>
    /// Checks every setting registered with ValidateOnStart now rather than when the host starts, which is after
    /// the migrations have waited for PostgreSQL. On a bad setting, writes one line per problem to stderr,
    /// prefixed with <paramref name="process"/>, and returns false: the caller exits with
    /// <see cref="BadSettingsExitCode"/>.
    /// </summary>
    public static bool SettingsAreValid(this IHost host, string process)
    {
        try
        {
            host.Services.GetService<IStartupValidator>()?.Validate();
            return true;
        }
        catch (Exception e) when (e is OptionsValidationException or AggregateException)
        {
            var failures = e is AggregateException aggregate
                ? aggregate.InnerExceptions.OfType<OptionsValidationException>().SelectMany(v => v.Failures)
                : ((OptionsValidationException)e).Failures;
            foreach (var failure in failures)
            {
                Console.Error.WriteLine($"{process}: {failure}");
            }

            return false;
        }
    }
}
