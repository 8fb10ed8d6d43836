using MassTransit;

namespace Geo.Events.Testing;

/// <summary>A started MassTransit bus for forging messages; stopped when disposed.</summary>
public sealed class ForgeryBus(IBusControl bus) : IAsyncDisposable
{
    public Task Publish<T>(T message) where T : class => bus.Publish(message);

    public Task<ISendEndpoint> GetSendEndpoint(Uri address) => bus.GetSendEndpoint(address);

    public async ValueTask DisposeAsync() => await bus.StopAsync();
}
