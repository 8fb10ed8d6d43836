using Geo.Events.Core;
using MassTransit;
using Microsoft.Extensions.Options;

namespace Geo.Events.Secondary.Retries;

/// <summary>
/// How every consumer of geo-secondary is configured: quick retries in process (<c>Retry:Immediate</c>) while it
/// holds the message, never for a <see cref="PermanentFailureException"/> (a bad path or key stays bad). The
/// redeliveries through the delay queues wrap this, once per endpoint (<see cref="DelayedRedeliveryFilter{T}"/>).
/// </summary>
public sealed class QuickRetryDefinition<TConsumer> : ConsumerDefinition<TConsumer>
    where TConsumer : class, IConsumer
{
    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<TConsumer> consumerConfigurator,
        IRegistrationContext context)
    {
        var intervals = context.GetRequiredService<IOptions<RetryOptions>>().Value.ImmediateIntervals;
        consumerConfigurator.UseMessageRetry(retry =>
        {
            if (intervals.Length == 0)
            {
                retry.None();
            }
            else
            {
                retry.Intervals(intervals);
            }

            retry.Ignore<PermanentFailureException>();
        });
    }
}
