using Geo.Events.Testing;

namespace Geo.Events.IntegrationTests;

/// <summary>
/// infra/monitoring's alerting rules, checked by Prometheus's own promtool (Debian's <c>prometheus</c> package, installed
/// by infra/local/up): the file loads, and each alert fires on the series that should raise it and stays quiet on the
/// neighbour that should not (infra/monitoring/geo-events-alerts.test.yml). That the rules name only metrics the
/// services export is the unit tests' MonitoringFilesTests.
/// </summary>
[TestClass]
public sealed class MonitoringRulesTests
{
    private static readonly string Folder = Path.Combine(TestServers.RepoRoot, "infra", "monitoring");

    [TestMethod]
    public async Task TheAlertingRulesLoadAndEachAlertFiresWhenItShouldAndOnlyThen()
    {
        var promtool = new[] { "/usr/bin/promtool", "/usr/local/bin/promtool" }.FirstOrDefault(File.Exists);
        Assert.IsNotNull(promtool, "promtool is missing: infra/local/up installs Debian's prometheus package, which ships it");

        var checkedRules = await Shell.RunAsync(promtool, Folder, "check", "rules", "geo-events-alerts.yml");
        StringAssert.Contains(checkedRules, "SUCCESS: 7 rules found");

        // Fails (exit 1, naming the alert and the time) when a rule's expression, duration, labels or annotations
        // no longer raise what the test file expects.
        var tested = await Shell.RunAsync(promtool, Folder, "test", "rules", "geo-events-alerts.test.yml");
        StringAssert.Contains(tested, "SUCCESS");
    }
}
