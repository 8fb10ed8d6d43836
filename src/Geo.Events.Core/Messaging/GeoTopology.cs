using System.Text.RegularExpressions;
using Geo.Events.Contracts;
using MassTransit;

namespace Geo.Events.Core.Messaging;

/// <summary>
/// The names on the broker. One fanout exchange per event type; one durable quorum queue per secondary,
/// <c>geo.secondary.&lt;name&gt;</c>, bound to every event exchange. MassTransit declares the same shape when
/// a secondary starts; geo-primary declares it earlier so a secondary that has never run already collects
/// its events.
/// </summary>
public static partial class GeoTopology
{
    public const string QueuePrefix = "geo.secondary.";

    private const string ExchangePrefix = "geo.events.";

    /// <summary>Every event contract: each concrete <see cref="IGeoEvent"/> in the contracts assembly.</summary>
    public static readonly IReadOnlyList<Type> EventTypes = typeof(IGeoEvent).Assembly.GetExportedTypes()
        .Where(t => t is { IsClass: true, IsAbstract: false } && typeof(IGeoEvent).IsAssignableFrom(t))
        .OrderBy(t => t.Name, StringComparer.Ordinal)
        .ToArray();

    /// <summary>The exchange each contract is published to: <c>geo.events.</c> and its name in kebab case.</summary>
    public static readonly IReadOnlyDictionary<Type, string> EventExchanges = EventTypes.ToDictionary(t => t, ExchangeName);

    /// <summary>
    /// How to prepare each contract's publish endpoint ahead of its first publish (MassTransit asks for the type as a
    /// type argument); the unit tests check that it names every one of <see cref="EventTypes"/>.
    /// </summary>
    public static readonly IReadOnlyDictionary<Type, Func<IPublishEndpointProvider, Task<ISendEndpoint>>> PublishEndpoints =
        new Dictionary<Type, Func<IPublishEndpointProvider, Task<ISendEndpoint>>>
        {
            [typeof(FileCreated)] = bus => bus.GetPublishSendEndpoint<FileCreated>(),
            [typeof(FileDestroyed)] = bus => bus.GetPublishSendEndpoint<FileDestroyed>(),
            [typeof(GroupDestroyed)] = bus => bus.GetPublishSendEndpoint<GroupDestroyed>(),
            [typeof(NamespaceRenamed)] = bus => bus.GetPublishSendEndpoint<NamespaceRenamed>(),
            [typeof(ProjectDestroyed)] = bus => bus.GetPublishSendEndpoint<ProjectDestroyed>(),
            [typeof(ProjectRenamed)] = bus => bus.GetPublishSendEndpoint<ProjectRenamed>(),
            [typeof(RepositoryChanged)] = bus => bus.GetPublishSendEndpoint<RepositoryChanged>(),
            [typeof(RepositoryDestroyed)] = bus => bus.GetPublishSendEndpoint<RepositoryDestroyed>(),
            [typeof(SshKeyCreated)] = bus => bus.GetPublishSendEndpoint<SshKeyCreated>(),
            [typeof(SshKeyDestroyed)] = bus => bus.GetPublishSendEndpoint<SshKeyDestroyed>(),
        };

    private static readonly Dictionary<string, Type> EventTypesByName = EventTypes.ToDictionary(t => t.Name, StringComparer.Ordinal);

    /// <summary>The contract named <paramref name="name"/> (as the event log and dead letters record it), if any.</summary>
    public static Type? EventType(string name) => EventTypesByName.GetValueOrDefault(name);

    /// <summary><c>RepositoryChanged</c> → <c>geo.events.repository-changed</c>.</summary>
    public static string ExchangeName(Type eventType) =>
        ExchangePrefix + string.Concat(eventType.Name.Select((c, i) => char.IsUpper(c) ? (i > 0 ? "-" : "") + char.ToLowerInvariant(c) : c.ToString()));

    [GeneratedRegex(@"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\z", RegexOptions.CultureInvariant)]
    private static partial Regex SecondaryNamePattern();

    /// <summary>Null when <paramref name="name"/> is a valid secondary name (a DNS label), else why not.</summary>
    public static string? SecondaryNameProblem(string? name) =>
        name is not null && SecondaryNamePattern().IsMatch(name)
            ? null
            : $"secondary name '{name}' must be a DNS label: 1-63 lowercase letters, digits and '-', not starting or ending with '-'";

    public static string QueueName(string secondaryName)
    {
        var problem = SecondaryNameProblem(secondaryName);
        return problem is null ? QueuePrefix + secondaryName : throw new ArgumentException(problem, nameof(secondaryName));
    }

    public static void ConfigureHost(this IRabbitMqBusFactoryConfigurator cfg, RabbitMqOptions options)
    {
        var nodes = options.Nodes();
        cfg.Host(nodes[0].Host, nodes[0].Port, options.VirtualHost, h =>
        {
            h.Username(options.Username);
            h.Password(options.Password);
            if (nodes.Count > 1)
            {
                // A cluster: connect to the first node that answers, and reconnect to any of them when it goes.
                h.UseCluster(cluster =>
                {
                    foreach (var (host, port) in nodes)
                    {
                        cluster.Node(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{host}:{port}"));
                    }
                });
            }

            h.PublisherConfirmation = true;
            h.RequestedConnectionTimeout(TimeSpan.FromSeconds(10));
        });

        cfg.MessageTopology.SetEntityNameFormatter(new EventExchangeFormatter(cfg.MessageTopology.EntityNameFormatter));

        // The contracts' interfaces are not exchanges of their own: consumers bind to concrete events only.
        foreach (var contract in typeof(IGeoEvent).Assembly.GetExportedTypes().Where(t => t.IsInterface))
        {
            cfg.Publish(contract, p => p.Exclude = true);
        }
    }

    /// <summary>Names an event contract's exchange; anything else (MassTransit's own messages) as before.</summary>
    private sealed class EventExchangeFormatter(IEntityNameFormatter fallback) : IEntityNameFormatter
    {
        public string FormatEntityName<T>() =>
            EventExchanges.TryGetValue(typeof(T), out var exchange) ? exchange : fallback.FormatEntityName<T>();
    }
}
