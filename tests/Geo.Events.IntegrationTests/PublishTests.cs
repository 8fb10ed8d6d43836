using Geo.Events.Testing;

namespace Geo.Events.IntegrationTests;

/// <summary><c>make publish</c>: release folders a deployment can install, started as they are.</summary>
[TestClass]
public sealed class PublishTests
{
    [TestMethod]
    public async Task ThePublishedProgramsStartAndReplicateWithTheirSystemdUnitsBeside()
    {
        var output = Path.Combine(Path.GetTempPath(), "geo-events-tests", "publish-" + Guid.NewGuid().ToString("N")[..12]);
        try
        {
            var (code, stdout, stderr) = await RunAsync(Path.Combine(TestServers.RepoRoot, "infra", "deploy", "publish"), [], new()
            {
                ["PUBLISH_DIR"] = output,
                ["NO_BUILD"] = "1",
                ["CONFIGURATION"] = TestServers.Configuration,
            });
            Assert.AreEqual(0, code, stderr + stdout);
            foreach (var program in new[] { "geo-primary", "geo-secondary", "geo-admin" })
            {
                Assert.IsTrue(File.Exists(Path.Combine(output, program, program + ".dll")), $"{program}.dll is not in the release folder");
                Assert.IsTrue(File.Exists(Path.Combine(output, program, "deploy", program + ".env")), $"{program} has no example environment file");
                Assert.AreEqual(1, Directory.GetFiles(output, program + "-*.tar.gz").Length, $"no tarball of {program}");
            }

            foreach (var service in new[] { "geo-primary", "geo-secondary" })
            {
                var unit = await File.ReadAllTextAsync(Path.Combine(output, service, "deploy", service + ".service"));
                StringAssert.Contains(unit, $"ExecStart=/usr/bin/dotnet /opt/geo-events/{service}/{service}.dll");
                StringAssert.Contains(unit, $"EnvironmentFile=/etc/geo-events/{service}.env");
            }

            // sshd's AuthorizedKeysCommand, native, beside geo-secondary (and its appsettings.json): runs without dotnet.
            Assert.IsTrue(File.Exists(Path.Combine(output, "geo-secondary", "geo-authorized-keys")), "geo-authorized-keys is not in geo-secondary's release folder");
            (code, _, stderr) = await RunAsync(Path.Combine(output, "geo-secondary", "geo-authorized-keys"), [], []);
            Assert.AreEqual(2, code, "geo-authorized-keys from the release folder did not answer a call without arguments with its usage: " + stderr);
            StringAssert.Contains(stderr, "usage: geo-authorized-keys");

            // geo-admin from the release folder, by its own launcher.
            (code, stdout, stderr) = await RunAsync(Path.Combine(output, "geo-admin", "geo-admin"), ["--version"], []);
            Assert.AreEqual(0, code, stderr);
            Assert.IsFalse(string.IsNullOrWhiteSpace(stdout), "geo-admin --version printed nothing");
            (code, stdout, stderr) = await RunAsync(Path.Combine(output, "geo-admin", "geo-admin"), ["--help"], []);
            Assert.AreEqual(0, code, stderr);
            foreach (var command in new[] { "status", "dlq", "secondaries", "wait", "--url" })
            {
                StringAssert.Contains(stdout, command);
            }

            // geo-primary and a self-registering geo-secondary, both from the release folder: healthy, and a push arrives.
            GeoProcess.PublishedPrograms.Value = output;
            await using var site = await GeoSite.StartAsync(["kobe"], register: true);
            using (var ready = await site.Http.GetAsync("/health/ready"))
            {
                Assert.IsTrue(ready.IsSuccessStatusCode, $"the published geo-primary's /health/ready answered {ready.StatusCode}");
            }

            using (var http = new HttpClient { BaseAddress = site.SecondaryUrl("kobe") })
            using (var ready = await http.GetAsync("/health/ready"))
            {
                Assert.IsTrue(ready.IsSuccessStatusCode, $"the published geo-secondary's /health/ready answered {ready.StatusCode}");
            }

            var (repo, _) = await site.CreatePushedRepositoryAsync("release/app", 71);
            await site.WaitForMirrorsAsync(repo);
            Assert.AreEqual(Path.Combine(output, "geo-primary", "geo-primary.dll"), site.Primary.Program, "geo-primary did not run from the release folder");
            Assert.AreEqual(Path.Combine(output, "geo-secondary", "geo-secondary.dll"), site.Secondary("kobe").Program, "the secondary did not run from the release folder");
        }
        finally
        {
            GeoProcess.PublishedPrograms.Value = null;
            if (Directory.Exists(output) && Environment.GetEnvironmentVariable("GEO_TEST_KEEP") != "1")
            {
                Directory.Delete(output, recursive: true);
            }
        }
    }

    private static Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string program, string[] args, Dictionary<string, string> environment) =>
        Shell.RunCapturedAsync(program, args, environment);
}
