using System.Text.Json;
using Geo.Events.Testing;

namespace Geo.Events.IntegrationTests;

/// <summary><c>geo-admin wait</c>: "is my commit on my site yet?", asked of the secondary's own HTTP endpoint.</summary>
[TestClass]
public sealed class WaitTests
{
    [TestMethod]
    public async Task WaitReturnsOnceTheCommitIsOnTheSiteAndTimesOutWithExitSixSayingWhatIsMissing()
    {
        await using var site = await GeoSite.StartAsync(["hakone"], register: true);
        var url = site.SecondaryUrl("hakone").ToString();
        var (repo, first) = await site.CreatePushedRepositoryAsync("ci/app", 81);
        await site.WaitForMirrorsAsync(repo);

        // Up to date: the primary's current refs (by id and by path), a ref at a commit, a commit anywhere.
        foreach (var args in new[]
        {
            new[] { "81" },
            ["ci/app"],
            ["81", "--ref", "refs/heads/main", "--sha", first],
            ["81", "--sha", first],
            ["81", "--ref", "refs/heads/main"],
        })
        {
            var (code, stdout, stderr) = await site.AdminAsync(["wait", .. args, "--secondary", "hakone", "--secondary-url", url, "--timeout", "30s"]);
            Assert.AreEqual(0, code, $"wait {string.Join(' ', args)}: {stderr}{stdout}");
            StringAssert.Contains(stdout, "hakone has");
        }

        // The site is down while a commit is pushed: wait gives up after its timeout with exit 6 and says why.
        await site.KillSecondaryAsync("hakone");
        var (second, _) = await site.PushWithHookAsync(repo, 81, "second", first);
        var down = await site.AdminAsync("wait", "81", "--secondary", "hakone", "--secondary-url", url, "--ref", "refs/heads/main", "--sha", second, "--timeout", "2s");
        Assert.AreEqual(6, down.ExitCode, down.Stderr + down.Stdout);
        StringAssert.Contains(down.Stderr, "cannot ask hakone");

        // Back up, the mirror catches up and the same wait succeeds; the mirror really has the commit.
        site.StartSecondary("hakone");
        var (upCode, upOut, upErr) = await site.AdminAsync("wait", "ci/app", "--secondary", "hakone", "--secondary-url", url, "--ref", "refs/heads/main", "--sha", second, "--timeout", "90s", "--output", "json");
        Assert.AreEqual(0, upCode, upErr + upOut);
        var answer = JsonDocument.Parse(upOut).RootElement;
        Assert.IsTrue(answer.GetProperty("upToDate").GetBoolean());
        Assert.AreEqual(second, answer.GetProperty("mirrorSha").GetString());
        Assert.AreEqual(second, (await PrimaryRepository.ReadRefsAsync(site.MirrorPath("hakone", "ci/app")))["refs/heads/main"]);

        // A push with no hook (GitLab sent none, or it was lost): the primary's current refs are not on the site.
        var unannounced = await repo.CommitAndPushAsync("no hook for this one");
        var behind = await site.AdminAsync("wait", "81", "--secondary", "hakone", "--secondary-url", url, "--timeout", "2s");
        Assert.AreEqual(6, behind.ExitCode, behind.Stderr + behind.Stdout);
        StringAssert.Contains(behind.Stderr, "1 of the primary's 1 refs differ");
        behind = await site.AdminAsync("wait", "81", "--secondary", "hakone", "--secondary-url", url, "--ref", "refs/heads/main", "--timeout", "2s");
        Assert.AreEqual(6, behind.ExitCode, behind.Stderr + behind.Stdout);
        StringAssert.Contains(behind.Stderr, $"wanted {unannounced[..12]}");
        behind = await site.AdminAsync("wait", "81", "--secondary", "hakone", "--secondary-url", url, "--sha", unannounced, "--timeout", "2s");
        Assert.AreEqual(6, behind.ExitCode, behind.Stderr + behind.Stdout);
        StringAssert.Contains(behind.Stderr, $"does not have commit {unannounced[..12]}");

        // Bad input is a usage error (2), not a wait.
        foreach (var args in new[] { new[] { "--sha", "xyz" }, ["--ref", "main"], ["--timeout", "soon"] })
        {
            var (code, _, stderr) = await site.AdminAsync(["wait", "81", "--secondary", "hakone", "--secondary-url", url, .. args]);
            Assert.AreEqual(2, code, $"wait {string.Join(' ', args)}: {stderr}");
        }

        // The endpoint refuses a bad ref itself (a runner may call it without geo-admin).
        using var http = new HttpClient { BaseAddress = site.SecondaryUrl("hakone") };
        using var bad = await http.GetAsync("/api/v1/mirrors/81?ref=refs/heads/../../x");
        Assert.AreEqual(System.Net.HttpStatusCode.BadRequest, bad.StatusCode);
    }
}
