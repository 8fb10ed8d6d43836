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

    /// <summary>The exchange each contract is published to.</summary>
    public static readonly IReadOnlyDictionary<Type, string> EventExchanges = new Dictionary<Type, string>
    {
        [typeof(RepositoryChanged)] = "geo.events.repository-changed",
        [typeof(SshKeyCreated)] = "geo.events.ssh-key-created",
        [typeof(SshKeyDestroyed)] = "geo.events.ssh-key-destroyed",
        [typeof(ProjectRenamed)] = "geo.events.project-renamed",
        [typeof(ProjectDestroyed)] = "geo.events.project-destroyed",
        [typeof(NamespaceRenamed)] = "geo.events.namespace-renamed",
        [typeof(FileCreated)] = "geo.events.file-created",
        [typeof(FileDestroyed)] = "geo.events.file-destroyed",
    };

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
        cfg.Host(options.Host, options.Port, options.VirtualHost, h =>
        {
            h.Username(options.Username);
            h.Password(options.Password);
            h.PublisherConfirmation = true;
            h.RequestedConnectionTimeout(TimeSpan.FromSeconds(10));
        });

        cfg.Message<RepositoryChanged>(m => m.SetEntityName(EventExchanges[typeof(RepositoryChanged)]));
        cfg.Message<SshKeyCreated>(m => m.SetEntityName(EventExchanges[typeof(SshKeyCreated)]));
        cfg.Message<SshKeyDestroyed>(m => m.SetEntityName(EventExchanges[typeof(SshKeyDestroyed)]));
        cfg.Message<ProjectRenamed>(m => m.SetEntityName(EventExchanges[typeof(ProjectRenamed)]));
        cfg.Message<ProjectDestroyed>(m => m.SetEntityName(EventExchanges[typeof(ProjectDestroyed)]));
        cfg.Message<NamespaceRenamed>(m => m.SetEntityName(EventExchanges[typeof(NamespaceRenamed)]));
        cfg.Message<FileCreated>(m => m.SetEntityName(EventExchanges[typeof(FileCreated)]));
        cfg.Message<FileDestroyed>(m => m.SetEntityName(EventExchanges[typeof(FileDestroyed)]));

        // The marker interface is not an exchange of its own: consumers bind to concrete events only.
        cfg.Publish<IGeoEvent>(p => p.Exclude = true);
    }
}
