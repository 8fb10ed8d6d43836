using RabbitMQ.Client;

namespace Geo.Events.Core.Messaging;

/// <summary>Where the broker is. Section <c>RabbitMq</c>; defaults match infra/local/up.</summary>
public sealed class RabbitMqOptions
{
    public const string Section = "RabbitMq";

    public string Host { get; set; } = "127.0.0.1";
    public ushort Port { get; set; } = 55672;
    public string VirtualHost { get; set; } = "/";
    public string Username { get; set; } = "geo";
    public string Password { get; set; } = "geo";

    /// <summary>For the few places that talk AMQP directly (topology, dead-letter ingest and replay).</summary>
    public ConnectionFactory ConnectionFactory(string clientName) => new()
    {
        HostName = Host,
        Port = Port,
        VirtualHost = VirtualHost,
        UserName = Username,
        Password = Password,
        ClientProvidedName = clientName,
        AutomaticRecoveryEnabled = true,
        NetworkRecoveryInterval = TimeSpan.FromSeconds(2),
    };
}
