using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;
using Geo.Events.Core.Observability;

namespace Geo.Events.Tests.Observability;

/// <summary>
/// infra/monitoring's alerting rules and Grafana dashboard name only metrics the services export: a renamed metric
/// fails here, not silently in someone's Grafana.
/// </summary>
[TestClass]
public sealed partial class MonitoringFilesTests
{
    private static readonly string Folder = Path.Combine(RepoRoot(), "infra", "monitoring");

    [TestMethod]
    public void EveryMetricTheRulesAndTheDashboardNameIsExported()
    {
        var exported = typeof(GeoMetrics).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Select(f => f.GetValue(null)).OfType<Prometheus.Collector>().Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var file in new[] { "geo-events-alerts.yml", "geo-events-dashboard.json" })
        {
            var text = File.ReadAllText(Path.Combine(Folder, file));
            var named = MetricName().Matches(text).Select(m => Regex.Replace(m.Value, "_(bucket|sum|count)$", "")).Distinct().ToList();
            Assert.IsTrue(named.Count >= 5, $"{file} names metrics");
            foreach (var name in named)
            {
                Assert.IsTrue(exported.Contains(name), $"{file} names {name}, which no service exports");
            }
        }
    }

    [TestMethod]
    public void TheDashboardIsJsonWithAQueryPerPanelAndTheRulesCoverWhatTheIssueAsks()
    {
        using var dashboard = JsonDocument.Parse(File.ReadAllText(Path.Combine(Folder, "geo-events-dashboard.json")));
        var panels = dashboard.RootElement.GetProperty("panels").EnumerateArray().ToList();
        Assert.IsTrue(panels.Count >= 10);
        Assert.IsTrue(panels.All(p => p.GetProperty("targets").EnumerateArray().Any(t => t.GetProperty("expr").GetString()!.Contains("geo_", StringComparison.Ordinal))));

        var rules = File.ReadAllText(Path.Combine(Folder, "geo-events-alerts.yml"));
        foreach (var alert in new[] { "GeoSecondaryBehind", "GeoSecondaryStale", "GeoDeadLettersGrowing", "GeoOutboxBacklogGrowing", "GeoMirrorsDiffering", "GeoDestroysGuarded" })
        {
            StringAssert.Contains(rules, $"- alert: {alert}\n");
        }
    }

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Geo.Events.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Geo.Events.sln not found above " + AppContext.BaseDirectory);
    }

    [GeneratedRegex("geo_[a-z_]+")]
    private static partial Regex MetricName();
}
