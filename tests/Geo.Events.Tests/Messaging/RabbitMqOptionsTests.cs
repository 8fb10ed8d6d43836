using Geo.Events.Core.Messaging;
using Microsoft.Extensions.Configuration;

namespace Geo.Events.Tests.Messaging;

/// <summary>RabbitMq:Hosts, the cluster's nodes, beside the single Host and Port most deployments set.</summary>
[TestClass]
public sealed class RabbitMqOptionsTests
{
    [TestMethod]
    public void WithoutHostsTheOneNodeIsHostAndPort() =>
        CollectionAssert.AreEqual(new[] { ("rabbit.example.com", (ushort)5672) }, new RabbitMqOptions { Host = "rabbit.example.com", Port = 5672 }.Nodes().ToArray());

    [TestMethod]
    public void HostsListTheNodesInOrderWithPortAsTheirDefault()
    {
        var options = new RabbitMqOptions { Host = "ignored", Port = 5672, Hosts = ["a.example.com:5673", "b.example.com, 10.0.0.3:5674"] };
        CollectionAssert.AreEqual(
            new[] { ("a.example.com", (ushort)5673), ("b.example.com", (ushort)5672), ("10.0.0.3", (ushort)5674) },
            options.Nodes().ToArray());
    }

    [TestMethod]
    public void HostsAsOneEnvironmentVariableOrAsAListBothBind()
    {
        var plain = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["RabbitMq:Hosts"] = "a:5673,b:5674" }).Build();
        var list = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["RabbitMq:Hosts:0"] = "a:5673", ["RabbitMq:Hosts:1"] = "b:5674" }).Build();
        var expected = new[] { ("a", (ushort)5673), ("b", (ushort)5674) };
        CollectionAssert.AreEqual(expected, RabbitMqOptions.From(plain).Nodes().ToArray());
        CollectionAssert.AreEqual(expected, RabbitMqOptions.From(list).Nodes().ToArray());
    }

    [TestMethod]
    [DataRow("a.example.com:")]
    [DataRow("a.example.com:70000")]
    [DataRow(":5672")]
    [DataRow("a.example.com:x")]
    public void AHostsEntryThatIsNotHostOrHostAndPortIsRefused(string entry) =>
        Assert.ThrowsExactly<FormatException>(() => new RabbitMqOptions { Hosts = [entry] }.Nodes());
}
