using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using RabbitMQ.Client;

namespace Geo.Events.Core.Messaging;

/// <summary>Where the broker is. Section <c>RabbitMq</c>; defaults match infra/local/up.</summary>
public sealed class RabbitMqOptions
{
    public const string Section = "RabbitMq";

    public string Host { get; set; } = "127.0.0.1";
    public ushort Port { get; set; } = 55672;

    /// <summary>
    /// The nodes of a RabbitMQ cluster, <c>host</c> or <c>host:port</c> (<see cref="Port"/> when none is given), in the
    /// order they are tried; entries may also be comma-separated in one value. Empty: the one node <see cref="Host"/>.
    /// </summary>
    public string[] Hosts { get; set; } = [];

    public string VirtualHost { get; set; } = "/";
    public string Username { get; set; } = "geo";
    public string Password { get; set; } = "geo";

    /// <summary>
    /// Binds the section, and takes a plain <c>RabbitMq:Hosts</c> value too (<c>GEO_RabbitMq__Hosts=a:5672,b:5672</c>): the
    /// configuration binder fills an array only from numbered children (<c>RabbitMq:Hosts:0</c>).
    /// </summary>
    public static RabbitMqOptions From(IConfiguration configuration)
    {
        var options = configuration.GetSection(Section).Get<RabbitMqOptions>() ?? new RabbitMqOptions();
        options.TakePlainHosts(configuration);
        return options;
    }

    /// <summary>See <see cref="From"/>.</summary>
    public void TakePlainHosts(IConfiguration configuration)
    {
        if (configuration[Section + ":" + nameof(Hosts)] is { Length: > 0 } plain)
        {
            Hosts = [plain];
        }
    }

    /// <summary>Every node to try, first to last: <see cref="Hosts"/>, or <see cref="Host"/> and <see cref="Port"/>.</summary>
    public IReadOnlyList<(string Host, ushort Port)> Nodes()
    {
        var entries = Hosts.SelectMany(h => h.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToArray();
        return entries.Length == 0 ? [(Host, Port)] : entries.Select(ParseNode).ToArray();
    }

    private (string Host, ushort Port) ParseNode(string entry)
    {
        var colon = entry.LastIndexOf(':');
        if (colon < 0)
        {
            return (entry, Port);
        }

        return colon > 0 && ushort.TryParse(entry[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port > 0
            ? (entry[..colon], port)
            : throw new FormatException($"RabbitMq:Hosts entry '{entry}' is not host or host:port");
    }

    /// <summary>A <c>RabbitMq:Hosts</c> entry that is not <c>host</c> or <c>host:port</c> stops the service at start, naming it.</summary>
    public sealed class Validator : IValidateOptions<RabbitMqOptions>
    {
        public ValidateOptionsResult Validate(string? name, RabbitMqOptions options)
        {
            try
            {
                options.Nodes();
                return ValidateOptionsResult.Success;
            }
            catch (FormatException e)
            {
                return ValidateOptionsResult.Fail(e.Message);
            }
        }
    }

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

    /// <summary>A connection to the first node of <see cref="Nodes"/> that answers (recovery also tries them all).</summary>
    public Task<IConnection> ConnectAsync(string clientName, CancellationToken cancellationToken) =>
        ConnectionFactory(clientName).CreateConnectionAsync(Nodes().Select(n => new AmqpTcpEndpoint(n.Host, n.Port)).ToList(), cancellationToken);
}
