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
}
