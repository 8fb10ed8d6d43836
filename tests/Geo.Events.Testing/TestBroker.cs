using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Geo.Events.Testing;

/// <summary>
/// A RabbitMQ the services of a <see cref="GeoSite"/> talk to: the shared node of infra/local/up (the default), the
/// three-node cluster of infra/local/cluster, or the separate site broker of infra/local/site-broker. The last two are
/// started by the tests that need them (<see cref="UpAsync"/>) and stopped by them (<see cref="DownAsync"/>).
/// </summary>
public sealed class TestBroker
{
    private readonly string? _script;

    private TestBroker(string? script, IReadOnlyList<int> ports, IReadOnlyList<int> managementPorts)
    {
        _script = script;
        Ports = ports;
        ManagementPorts = managementPorts;
    }

    /// <summary>The node of infra/local/up, shared by every test.</summary>
    public static TestBroker Shared { get; } = new(null, [TestServers.RabbitPort], [TestServers.RabbitManagementPort]);

    /// <summary>infra/local/cluster: nodes 1-3 on 57672-57674, management 57682-57684.</summary>
    public static TestBroker Cluster { get; } = new("infra/local/cluster", [57672, 57673, 57674], [57682, 57683, 57684]);

    /// <summary>infra/local/site-broker: one node on 58672, management 58682.</summary>
    public static TestBroker Site { get; } = new("infra/local/site-broker", [58672], [58682]);

    public IReadOnlyList<int> Ports { get; }

    public IReadOnlyList<int> ManagementPorts { get; }

    /// <summary>Nodes that are down right now (stopped or killed by <see cref="NodeAsync"/>): management calls avoid them.</summary>
    public HashSet<int> Down { get; } = [];

    /// <summary>The services' RabbitMq settings: Host and Port for one node (the setting most deployments use), Hosts for a cluster.</summary>
    public Dictionary<string, string> Settings(string vhost)
    {
        var settings = new Dictionary<string, string>
        {
            ["RabbitMq:VirtualHost"] = vhost,
            ["RabbitMq:Username"] = TestServers.RabbitUser,
            ["RabbitMq:Password"] = TestServers.RabbitPassword,
        };
        if (Ports.Count == 1)
        {
            settings["RabbitMq:Host"] = TestServers.RabbitHost;
            settings["RabbitMq:Port"] = Ports[0].ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        else
        {
            settings["RabbitMq:Hosts"] = string.Join(',', Ports.Select(p => $"{TestServers.RabbitHost}:{p}"));
        }

        return settings;
    }

    public Task UpAsync() => RunAsync("up");

    public Task DownAsync() => RunAsync("down");

    /// <summary>infra/local/cluster start|stop|kill N for node <paramref name="node"/> (1-based).</summary>
    public async Task NodeAsync(string action, int node)
    {
        await RunAsync(action, node.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (action == "start")
        {
            Down.Remove(node);
        }
        else
        {
            Down.Add(node);
        }
    }

    /// <summary>Runs the broker's script to completion (no time limit: three nodes take minutes to boot on a loaded machine).</summary>
    private async Task RunAsync(params string[] args)
    {
        if (_script is null)
        {
            throw new InvalidOperationException("the shared broker is started by infra/local/up, not by tests");
        }

        var (exitCode, stdout, stderr) = await Shell.RunCapturedAsync(Path.Combine(TestServers.RepoRoot, _script), args);
        if (exitCode != 0)
        {
            throw new InvalidOperationException($"{_script} {string.Join(' ', args)} exited {exitCode}: {stderr}{stdout}");
        }
    }

    /// <summary>The management API of the first node that is not down.</summary>
    public HttpClient Management()
    {
        var port = ManagementPorts.Where((_, i) => !Down.Contains(i + 1)).First();
        var client = new HttpClient { BaseAddress = new Uri($"http://{TestServers.RabbitHost}:{port}/api/"), Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue(
            "Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{TestServers.RabbitUser}:{TestServers.RabbitPassword}")));
        return client;
    }

    public async Task CreateVhostAsync(string vhost)
    {
        using var client = Management();
        (await client.PutAsync($"vhosts/{Uri.EscapeDataString(vhost)}", null)).EnsureSuccessStatusCode();
        (await client.PutAsJsonAsync($"permissions/{Uri.EscapeDataString(vhost)}/{TestServers.RabbitUser}", new { configure = ".*", write = ".*", read = ".*" }))
            .EnsureSuccessStatusCode();
    }

    public async Task DeleteVhostAsync(string vhost)
    {
        using var client = Management();
        await client.DeleteAsync($"vhosts/{Uri.EscapeDataString(vhost)}");
    }

    /// <summary>A queue as the management API shows it (messages, leader, members, …), or null when it does not exist.</summary>
    public async Task<JsonElement?> QueueAsync(string vhost, string queue)
    {
        using var client = Management();
        using var response = await client.GetAsync($"queues/{Uri.EscapeDataString(vhost)}/{Uri.EscapeDataString(queue)}");
        if (response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return null;
        }

        response.EnsureSuccessStatusCode();
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    /// <summary>Every queue of <paramref name="vhost"/>.</summary>
    public async Task<JsonElement[]> QueuesAsync(string vhost)
    {
        using var client = Management();
        var text = await client.GetStringAsync($"queues/{Uri.EscapeDataString(vhost)}");
        return JsonDocument.Parse(text).RootElement.EnumerateArray().Select(e => e.Clone()).ToArray();
    }
}
