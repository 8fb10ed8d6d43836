using System.Diagnostics;
using Geo.Events.Testing;

namespace Geo.Events.IntegrationTests;

/// <summary>
/// Cloning at a site: real git clients over real HTTP against a running geo-secondary's Secondary:ServeUrls. Every
/// access decision is the primary's; here the primary's git endpoint is <see cref="GitLabStandIn"/> (GitLab cannot run
/// here), on the same storage the mirrors are fetched from.
/// </summary>
[TestClass]
public sealed class ServingTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);
    private const string Token = "glpat-alice-reads-secret";

    private static async Task<(GeoSite Site, GitLabStandIn GitLab, int Port)> StartAsync(
        IReadOnlyDictionary<string, string>? extra = null, Func<GeoSite, GitLabStandIn, Task<Dictionary<string, string>>>? more = null,
        IReadOnlyDictionary<string, string>? primarySettings = null, bool register = false)
    {
        var site = await GeoSite.StartAsync(["tokyo"], startSecondaries: false, register: register, primarySettings: primarySettings);
        var gitlab = await GitLabStandIn.StartAsync(site.StorageRoot);
        var port = GeoProcess.FreePort();
        var settings = new Dictionary<string, string>
        {
            ["Secondary:ServeUrls"] = $"http://127.0.0.1:{port}",
            ["Secondary:PrimaryCloneUrl"] = gitlab.Url,
        };
        foreach (var (key, value) in extra ?? new Dictionary<string, string>())
        {
            settings[key] = value;
        }

        foreach (var (key, value) in more is null ? [] : await more(site, gitlab))
        {
            settings[key] = value;
        }

        site.StartSecondary("tokyo", settings);
        await site.WaitForSecondaryAsync("tokyo");
        return (site, gitlab, port);
    }

    /// <summary>Runs git without prompting and without any helper of the machine's; returns its exit code and output.</summary>
    public static Task<(int ExitCode, string Output)> GitAsync(string workingDirectory, params string[] args) => GitWithSshAsync(workingDirectory, null, args);

    private static async Task<(int ExitCode, string Output)> GitWithSshAsync(string workingDirectory, string? sshCommand, params string[] args)
    {
        var info = new ProcessStartInfo("git") { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        if (sshCommand is not null)
        {
            info.Environment["GIT_SSH_COMMAND"] = sshCommand;
        }

        info.Environment["GIT_TERMINAL_PROMPT"] = "0";
        info.Environment["GIT_CONFIG_NOSYSTEM"] = "1";
        info.Environment["GIT_CONFIG_GLOBAL"] = "/dev/null";
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, (await stdout) + (await stderr));
    }

    private static string CloneUrl(int port, string path, string? user = null, string? password = null) =>
        user is null ? $"http://127.0.0.1:{port}/{path}.git" : $"http://{Uri.EscapeDataString(user)}:{Uri.EscapeDataString(password!)}@127.0.0.1:{port}/{path}.git";

    /// <summary>Clones into a new folder; returns git's exit code and output, and the clone's main when it worked.</summary>
    private static async Task<(int ExitCode, string Output, string? Main)> CloneAsync(GeoSite site, string url, params string[] config)
    {
        var target = Path.Combine(site.Root, "clones", Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        var (code, output) = await GitAsync(site.Root, [.. config.SelectMany(c => new[] { "-c", c }), "clone", "--bare", url, target]);
        var main = code == 0 ? (await Shell.RunAsync("git", target, "rev-parse", "refs/heads/main")).Trim() : null;
        return (code, output, main);
    }

    [TestMethod]
    public async Task APrivateProjectIsClonedFromTheMirrorWithThePrimarysCredentialsAndOnlyWithThem()
    {
        var (site, gitlab, port) = await StartAsync();
        await using var _ = site;
        await using var __ = gitlab;
        var (secret, sha) = await site.CreatePushedRepositoryAsync("acme/secret", 11);
        var (other, _) = await site.CreatePushedRepositoryAsync("acme/other", 12);
        await site.WaitForMirrorsAsync(secret, "tokyo");
        await site.WaitForMirrorsAsync(other, "tokyo");
        gitlab.Grant("alice", Token, "acme/secret");
        gitlab.Grant("gitlab-ci-token", "job-token-4711", "acme/secret");
        // The primary still answers who may read what, but serves no pack: a clone that works came from the mirror.
        gitlab.RefusePacks = true;

        var clone = await CloneAsync(site, CloneUrl(port, "acme/secret", "alice", Token));
        Assert.AreEqual(0, clone.ExitCode, clone.Output);
        Assert.AreEqual(sha, clone.Main);
        Assert.AreEqual(0, gitlab.PacksServed, "the primary served a pack");

        var job = await CloneAsync(site, CloneUrl(port, "acme/secret", "gitlab-ci-token", "job-token-4711"));
        Assert.AreEqual(0, job.ExitCode, "a CI job token was refused: " + job.Output);
        Assert.AreEqual(sha, job.Main);

        var wrong = await CloneAsync(site, CloneUrl(port, "acme/secret", "alice", "glpat-wrong"));
        Assert.AreNotEqual(0, wrong.ExitCode, "a wrong token cloned the private project");
        StringAssert.Contains(wrong.Output, "Authentication failed");

        var anonymous = await CloneAsync(site, CloneUrl(port, "acme/secret"));
        Assert.AreNotEqual(0, anonymous.ExitCode, "a private project was cloned without credentials");

        var notHers = await CloneAsync(site, CloneUrl(port, "acme/other", "alice", Token));
        Assert.AreNotEqual(0, notHers.ExitCode, "a token cloned a project it may not read");
        StringAssert.Contains(notHers.Output, "cannot be read with these credentials");

        // A push is refused with the primary's URL, and the mirror is untouched.
        var work = Path.Combine(site.Root, "push-work");
        await Shell.RunAsync("git", site.Root, "clone", "--quiet", secret.BarePath, work);
        await Shell.RunAsync("git", work, "-c", "user.name=A", "-c", "user.email=a@example.com", "commit", "--allow-empty", "-qm", "pushed at the site");
        var push = await GitAsync(work, "push", CloneUrl(port, "acme/secret", "alice", Token), "HEAD:refs/heads/main");
        Assert.AreNotEqual(0, push.ExitCode, "a push to the site succeeded");
        StringAssert.Contains(push.Output, $"{gitlab.Url}/acme/secret.git", "the refusal does not name the primary's URL");
        Assert.AreEqual(sha, (await PrimaryRepository.ReadRefsAsync(site.MirrorPath("tokyo", "acme/secret")))["refs/heads/main"]);

        // The mirror API (geo-admin wait) answers only those the primary lets read the project, or the site's API token.
        using var api = new HttpClient { BaseAddress = site.SecondaryUrl("tokyo") };
        async Task<System.Net.HttpStatusCode> AskAsync(long id, string? scheme, string? value)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/mirrors/{id}");
            if (scheme is not null)
            {
                request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue(scheme, value);
            }

            using var response = await api.SendAsync(request);
            return response.StatusCode;
        }

        static string Basic(string user, string password) => Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{user}:{password}"));
        Assert.AreEqual(System.Net.HttpStatusCode.Unauthorized, await AskAsync(11, null, null), "the mirror API answered without credentials");
        Assert.AreEqual(System.Net.HttpStatusCode.OK, await AskAsync(11, "Basic", Basic("gitlab-ci-token", "job-token-4711")));
        Assert.AreEqual(System.Net.HttpStatusCode.NotFound, await AskAsync(12, "Basic", Basic("alice", Token)), "the mirror API answered about a project the token may not read");
        Assert.AreEqual(System.Net.HttpStatusCode.Unauthorized, await AskAsync(12, "Bearer", "not-the-token"));
        Assert.AreEqual(System.Net.HttpStatusCode.OK, await AskAsync(12, "Bearer", GeoSite.MirrorApiToken));

        // The metrics count what was served and decided.
        var metrics = await api.GetStringAsync("/metrics");
        StringAssert.Contains(metrics, "geo_serve_clones_total{protocol=\"http\",served=\"local\"} 2");
        StringAssert.Contains(metrics, "geo_serve_decisions_total{protocol=\"http\",decision=\"denied\"}");
        StringAssert.Contains(metrics, "geo_serve_bytes_total{protocol=\"http\"}");

        // Nothing of a credential reaches the log.
        var log = site.Secondary("tokyo").Log();
        Assert.IsFalse(log.Contains(Token, StringComparison.Ordinal) || log.Contains("job-token-4711", StringComparison.Ordinal), "a credential was logged");
        StringAssert.Contains(log, "acme/secret.git");
    }

    [TestMethod]
    public async Task AYesIsReusedForTheCacheTtlAndAskedAgainAfter()
    {
        var (site, gitlab, port) = await StartAsync(new Dictionary<string, string> { ["Secondary:AuthCacheTtl"] = "00:00:08" });
        await using var _ = site;
        await using var __ = gitlab;
        var (secret, sha) = await site.CreatePushedRepositoryAsync("acme/secret", 21);
        await site.WaitForMirrorsAsync(secret, "tokyo");
        gitlab.Grant("alice", Token, "acme/secret");

        Assert.AreEqual(0, (await CloneAsync(site, CloneUrl(port, "acme/secret", "alice", Token))).ExitCode);
        var asked = gitlab.InfoRefsAsked;
        gitlab.Revoke("alice", Token, "acme/secret");

        // Within the TTL the primary is not asked again: the revoked token still clones (the price of the cache).
        var cached = await CloneAsync(site, CloneUrl(port, "acme/secret", "alice", Token));
        Assert.AreEqual(0, cached.ExitCode, cached.Output);
        Assert.AreEqual(sha, cached.Main);
        Assert.AreEqual(asked, gitlab.InfoRefsAsked, "the primary was asked again within the cache's TTL");

        // Once it expires the primary is asked, and its "no" holds.
        await GeoSite.WaitUntilAsync(async () => (await CloneAsync(site, CloneUrl(port, "acme/secret", "alice", Token))).ExitCode != 0,
            Timeout, () => "the revoked token still clones after the cache's TTL");
        Assert.IsTrue(gitlab.InfoRefsAsked > asked);
    }

    [TestMethod]
    public async Task WithoutThePrimaryNothingUncachedIsServedAndTheClientIsToldWhy()
    {
        var (site, gitlab, port) = await StartAsync(new Dictionary<string, string> { ["Secondary:AuthTimeout"] = "00:00:03" });
        await using var _ = site;
        await using var __ = gitlab;
        var (secret, _) = await site.CreatePushedRepositoryAsync("acme/secret", 31);
        await site.WaitForMirrorsAsync(secret, "tokyo");
        gitlab.Grant("alice", Token, "acme/secret");
        gitlab.MakePublic("acme/secret");
        gitlab.Down = true;

        foreach (var url in new[] { CloneUrl(port, "acme/secret", "alice", Token), CloneUrl(port, "acme/secret") })
        {
            var clone = await CloneAsync(site, url);
            Assert.AreNotEqual(0, clone.ExitCode, "a clone was served without the primary's decision");
            StringAssert.Contains(clone.Output, "cannot reach the primary", "the client is not told why");
            StringAssert.Contains(clone.Output, gitlab.Url);
        }

        StringAssert.Contains(site.Secondary("tokyo").Log(), "primary_unreachable");
    }

    [TestMethod]
    public async Task AStaleMirrorSendsTheClientToThePrimaryAndIsServedAgainOnceCaughtUp()
    {
        GitHttpServer? git = null;
        FaultyProxy? proxy = null;
        var (site, gitlab, port) = await StartAsync(new Dictionary<string, string>
        {
            ["Secondary:ServeMaxLag"] = "00:00:02",
            ["Secondary:GitTimeout"] = "00:00:20", // the fetch hangs, not fails, for longer than ServeMaxLag
            ["Retry:Immediate"] = "100ms",
            ["Retry:Delays"] = string.Join(',', Enumerable.Repeat("1s", 60)),
        }, async (s, _) =>
        {
            git = await GitHttpServer.StartAsync(s.StorageRoot);
            proxy = await FaultyProxy.StartAsync(git.BaseUrl);
            return new Dictionary<string, string> { ["Secondary:PrimaryGitUrl"] = proxy.BaseUrl.ToString() };
        });
        await using var _ = site;
        await using var __ = gitlab;
        await using var ___ = git!;
        await using var ____ = proxy!;
        var (repo, first) = await site.CreatePushedRepositoryAsync("acme/secret", 41);
        await site.WaitForMirrorsAsync(repo, "tokyo");
        gitlab.Grant("alice", Token, "acme/secret");
        var helper = $"credential.helper=!f() {{ echo username=alice; echo password={Token}; }}; f";

        // The primary moves on; the site hears of it but cannot fetch.
        proxy!.Faults = path => path.Value!.EndsWith("/git-upload-pack", StringComparison.Ordinal) ? new ProxyFault.Silence() : null;
        var (second, _) = await site.PushWithHookAsync(repo, 41, "second", first);
        await GeoSite.WaitUntilAsync(() => Task.FromResult(proxy.Faulted.Count > 0), Timeout, () => "the site never tried to fetch the second push");

        // Once the event has waited longer than ServeMaxLag, info/refs sends git to the primary, which has the new commit.
        await GeoSite.WaitUntilAsync(async () => (await CloneAsync(site, CloneUrl(port, "acme/secret"), helper)).Main == second,
            Timeout, () => "a clone at the site never got the primary's new commit");
        Assert.AreNotEqual(second, (await PrimaryRepository.ReadRefsAsync(site.MirrorPath("tokyo", "acme/secret")))["refs/heads/main"], "the mirror caught up: nothing was shown");
        StringAssert.Contains(site.Secondary("tokyo").Log(), "redirected to the primary: an event for it has waited", "the redirect was not for the waiting event");

        // Caught up: served from the mirror again (the primary serves no pack).
        proxy.Faults = _ => null;
        await site.WaitForMirrorsAsync(repo, "tokyo");
        await GeoSite.WaitUntilAsync(() => site.QuerySecondaryAsync<bool>("tokyo", "SELECT pending_since IS NULL AND state = 'synced' FROM projects WHERE project_id = 41"),
            Timeout, () => "the project never became synced");
        gitlab.RefusePacks = true;
        var local = await CloneAsync(site, CloneUrl(port, "acme/secret", "alice", Token));
        Assert.AreEqual(0, local.ExitCode, local.Output);
        Assert.AreEqual(second, local.Main);
    }

    [TestMethod]
    public async Task OverSshAnAllowedKeyClonesFromTheMirrorAndADeniedKeyIsRefused()
    {
        await using var sshd = await SshServer.CreateAsync();
        var (site, gitlab, _) = await StartWithSshAsync(sshd);
        await using var _ = site;
        await using var __ = gitlab;
        await sshd.StartAsync();
        var (secret, sha) = await site.CreatePushedRepositoryAsync("acme/secret", 51);
        await site.WaitForMirrorsAsync(secret, "tokyo");
        var allowed = await KeyPairAsync(Path.Combine(site.Root, "keys"));
        var denied = await KeyPairAsync(Path.Combine(site.Root, "keys"));
        await site.Hooks.AcceptedAsync(Hooks.Key("key_create", 501, allowed.Public, "alice"));
        await site.Hooks.AcceptedAsync(Hooks.Key("key_create", 502, denied.Public, "alice"));
        await GeoSite.WaitUntilAsync(async () => File.Exists(sshd.AuthorizedKeysFile) && (await File.ReadAllTextAsync(sshd.AuthorizedKeysFile)).Contains("git-shell key-502", StringComparison.Ordinal),
            Timeout, () => "the keys never reached authorized_keys");
        gitlab.GrantKey(501, "acme/secret");

        var url = $"ssh://{SshServer.User}@127.0.0.1:{sshd.Port}/acme/secret.git";
        var clone = await SshCloneAsync(site, allowed.Private, url);
        Assert.AreEqual(0, clone.ExitCode, clone.Output + "\n" + sshd.SafeLog());
        Assert.AreEqual(sha, clone.Main);
        Assert.AreEqual(0, gitlab.PacksServed, "the primary served a pack");
        Assert.IsTrue(gitlab.AllowedCalls >= 1, "the primary's internal API was not asked");

        var refused = await SshCloneAsync(site, denied.Private, url);
        Assert.AreNotEqual(0, refused.ExitCode, "a key the primary denies cloned the project");
        StringAssert.Contains(refused.Output, "could not be found or you don't have permission");

        var work = Path.Combine(site.Root, "ssh-push-work");
        await Shell.RunAsync("git", site.Root, "clone", "--quiet", secret.BarePath, work);
        await Shell.RunAsync("git", work, "-c", "user.name=A", "-c", "user.email=a@example.com", "commit", "--allow-empty", "-qm", "pushed at the site");
        var push = await GitWithSshAsync(work, SshCommand(allowed.Private), "push", url, "HEAD:refs/heads/main");
        Assert.AreNotEqual(0, push.ExitCode, "a push over SSH to the site succeeded");
        StringAssert.Contains(push.Output, $"{gitlab.Url}/acme/secret.git", "the refusal does not name the primary's URL");
    }

    [TestMethod]
    public async Task OverSshAStaleMirrorAndAnUnreachablePrimaryAreToldWithThePrimarysUrlAndEveryOutcomeIsCountedAndLogged()
    {
        await using var sshd = await SshServer.CreateAsync();
        GitHttpServer? git = null;
        FaultyProxy? proxy = null;
        var (site, gitlab, _) = await StartWithSshAsync(sshd, new Dictionary<string, string>
        {
            ["Secondary:ServeMaxLag"] = "00:00:02",
            ["Secondary:AuthTimeout"] = "00:00:03",
        }, async s =>
        {
            git = await GitHttpServer.StartAsync(s.StorageRoot);
            proxy = await FaultyProxy.StartAsync(git.BaseUrl);
            return new Dictionary<string, string>
            {
                ["Secondary:PrimaryGitUrl"] = proxy.BaseUrl.ToString(),
                ["Secondary:GitTimeout"] = "00:00:20", // the fetch hangs, not fails, for longer than ServeMaxLag
                ["Retry:Immediate"] = "100ms",
                ["Retry:Delays"] = string.Join(',', Enumerable.Repeat("1s", 60)),
            };
        }, register: true);
        await using var _ = site;
        await using var __ = gitlab;
        await using var ___ = git!;
        await using var ____ = proxy!;
        await sshd.StartAsync();
        var (repo, first) = await site.CreatePushedRepositoryAsync("acme/secret", 61);
        await site.WaitForMirrorsAsync(repo, "tokyo");
        var key = await AddKeyAsync(site, sshd, 601);
        gitlab.GrantKey(601, "acme/secret");
        var url = $"ssh://{SshServer.User}@127.0.0.1:{sshd.Port}/acme/secret.git";
        var primaryUrl = $"{gitlab.Url}/acme/secret.git";

        // The primary's internal API cannot be reached: nothing is served, and the client is told why and where to go.
        gitlab.Down = true;
        var down = await SshCloneAsync(site, key.Private, url);
        Assert.AreNotEqual(0, down.ExitCode, "a clone over SSH was served without the primary's decision");
        StringAssert.Contains(down.Output, "cannot reach the primary", "the client is not told why");
        StringAssert.Contains(down.Output, primaryUrl);
        gitlab.Down = false;

        // Served from the mirror (the primary serves no pack).
        gitlab.RefusePacks = true;
        var local = await SshCloneAsync(site, key.Private, url);
        Assert.AreEqual(0, local.ExitCode, local.Output + "\n" + sshd.SafeLog());
        Assert.AreEqual(first, local.Main);

        // The primary moves on; the site hears of it but cannot fetch: once the event has waited longer than
        // ServeMaxLag, SSH (which cannot redirect) refuses with the primary's URL instead of serving old refs.
        proxy!.Faults = path => path.Value!.EndsWith("/git-upload-pack", StringComparison.Ordinal) ? new ProxyFault.Silence() : null;
        var (second, _) = await site.PushWithHookAsync(repo, 61, "second", first);
        await GeoSite.WaitUntilAsync(() => Task.FromResult(proxy.Faulted.Count > 0), Timeout, () => "the site never tried to fetch the second push");
        (int ExitCode, string Output, string? Main) stale = default;
        await GeoSite.WaitUntilAsync(async () => (stale = await SshCloneAsync(site, key.Private, url)).ExitCode != 0,
            Timeout, () => $"the stale mirror was still served over SSH: {stale.Main} ({stale.Output})");
        StringAssert.Contains(stale.Output, $"Clone from the primary: {primaryUrl}");
        StringAssert.Contains(stale.Output, "an event for it has waited", "the refusal does not say the mirror is behind");
        Assert.AreNotEqual(second, (await PrimaryRepository.ReadRefsAsync(site.MirrorPath("tokyo", "acme/secret")))["refs/heads/main"], "the mirror caught up: nothing was shown");

        // Caught up: served from the mirror again.
        proxy.Faults = _ => null;
        await GeoSite.WaitUntilAsync(() => site.QuerySecondaryAsync<bool>("tokyo", "SELECT pending_since IS NULL AND state = 'synced' FROM projects WHERE project_id = 61"),
            Timeout, () => "the project never became synced");
        var again = await SshCloneAsync(site, key.Private, url);
        Assert.AreEqual(0, again.ExitCode, again.Output);
        Assert.AreEqual(second, again.Main);
        Assert.AreEqual(0, gitlab.PacksServed, "the primary served a pack");

        // What the short-lived git-shell processes decided and served is in the long-running geo-secondary's metrics,
        // status figures and log, with no credential.
        using var api = new HttpClient { BaseAddress = site.SecondaryUrl("tokyo") };
        string metrics = "";
        double Value(string series) => metrics.Split('\n').Where(l => l.StartsWith(series + " ", StringComparison.Ordinal))
            .Select(l => double.Parse(l[(series.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture)).SingleOrDefault();
        // Clones that were still served while the event waited count as local too: at least the two above.
        await GeoSite.WaitUntilAsync(async () =>
            {
                metrics = await api.GetStringAsync("/metrics");
                return Value("geo_serve_clones_total{protocol=\"ssh\",served=\"local\"}") >= 2 && Value("geo_serve_clones_total{protocol=\"ssh\",served=\"redirected\"}") >= 1;
            },
            Timeout, () => "the SSH clones are not counted: " + string.Join('\n', metrics.Split('\n').Where(l => l.StartsWith("geo_serve", StringComparison.Ordinal))));
        Assert.AreEqual(1, Value("geo_serve_decisions_total{protocol=\"ssh\",decision=\"primary_unreachable\"}"));
        Assert.IsTrue(Value("geo_serve_decisions_total{protocol=\"ssh\",decision=\"allowed\"}") >= 1, "the primary's yes is not counted");
        Assert.IsTrue(Value("geo_serve_decision_seconds_count{protocol=\"ssh\",source=\"asked\"}") >= 2, "the decisions' latency is not measured");
        Assert.IsTrue(Value("geo_serve_bytes_total{protocol=\"ssh\"}") > 0, "no bytes counted for SSH");
        var log = site.Secondary("tokyo").Log();
        StringAssert.Contains(log, "SSH acme/secret.git git-upload-pack key 601 → served (");
        StringAssert.Contains(log, "SSH acme/secret.git git-upload-pack key 601 → redirected to the primary: an event for it has waited");
        StringAssert.Contains(log, "SSH acme/secret.git git-upload-pack key 601 → primary_unreachable");
        Assert.IsFalse(log.Contains(gitlab.ShellSecret, StringComparison.Ordinal), "the shared secret was logged");

        // geo-admin status shows the site's serving figures, per protocol in its JSON.
        string status = "";
        await GeoSite.WaitUntilAsync(async () =>
            {
                var (_, stdout, _) = await site.AdminAsync("status", "--output", "json");
                status = stdout;
                var row = System.Text.Json.JsonDocument.Parse(stdout).RootElement.EnumerateArray().Single();
                return row.TryGetProperty("serving", out var serving) && serving.ValueKind == System.Text.Json.JsonValueKind.Object
                    && serving.GetProperty("byProtocol").GetProperty("ssh").GetProperty("servedLocally").GetInt64() >= 2
                    && serving.GetProperty("redirected").GetInt64() >= 1;
            },
            Timeout, () => "geo-admin status does not show what the site served: " + status);
    }

    [TestMethod]
    public async Task AProjectsWikiAndDesignsAGroupsWikiAndASnippetAreClonedFromTheirMirrors()
    {
        var (site, gitlab, port) = await StartAsync(primarySettings: new Dictionary<string, string>
        {
            // GitLab sends no hook for designs, snippets and group wikis: the change detector finds them.
            ["Primary:RepositoryScanInterval"] = "00:00:01",
            ["Primary:RepositoryHookGrace"] = "00:00:00.500",
        });
        await using var _ = site;
        await using var __ = gitlab;
        const long id = 71;
        var project = await site.CreateHashedRepositoryAsync("team/app", id);
        await site.PushWithHookAsync(project, id, "code");
        var wiki = await site.CreateHashedRepositoryAsync("team/app", id, wiki: true);
        await wiki.CommitAndPushAsync("home page");
        var design = await site.CreateStoredRepositoryAsync(Contracts.RepositoryKind.Design, id, "team/app.design");
        await design.CommitAndPushAsync("login screen mock-up");
        var groupWiki = await site.CreateStoredRepositoryAsync(Contracts.RepositoryKind.GroupWiki, 72, "team.wiki");
        await groupWiki.CommitAndPushAsync("group home");
        var snippet = await site.CreateStoredRepositoryAsync(Contracts.RepositoryKind.Snippet, 73, "snippets/73");
        await snippet.CommitAndPushAsync("snippet v1");
        var other = await site.CreateStoredRepositoryAsync(Contracts.RepositoryKind.Snippet, 74, "snippets/74");
        await other.CommitAndPushAsync("someone else's");
        foreach (var repo in new[] { project, wiki, design, groupWiki, snippet, other })
        {
            await site.WaitForMirrorsAsync(repo, "tokyo");
        }

        // The primary decides each (a wiki's and a design repository's rights are the project's or group's), and
        // serves no pack: a clone that works came from the site's mirror.
        gitlab.Grant("alice", Token, "team/app", "team", "snippets/73");
        gitlab.RefusePacks = true;
        foreach (var (repo, path) in new[] { (wiki, "team/app.wiki"), (design, "team/app.design"), (groupWiki, "team.wiki"), (snippet, "snippets/73") })
        {
            var clone = await CloneAsync(site, CloneUrl(port, path, "alice", Token));
            Assert.AreEqual(0, clone.ExitCode, $"{path}: {clone.Output}");
            Assert.AreEqual((await PrimaryRepository.ReadRefsAsync(repo.BarePath))["refs/heads/main"], clone.Main, path);
        }

        Assert.AreEqual(0, gitlab.PacksServed, "the primary served a pack");
        var notHers = await CloneAsync(site, CloneUrl(port, "snippets/74", "alice", Token));
        Assert.AreNotEqual(0, notHers.ExitCode, "a token cloned a snippet it may not read");
        StringAssert.Contains(notHers.Output, "cannot be read with these credentials");
    }

    [TestMethod]
    public async Task AProjectWhoseDestroyTheSafetyNetHoldsIsNotServedFromItsMirror()
    {
        // The guard holds every destroy beyond the first in its window.
        var (site, gitlab, port) = await StartAsync(new Dictionary<string, string> { ["Secondary:DestroyGuardCount"] = "1" });
        await using var _ = site;
        await using var __ = gitlab;
        var (gone, _) = await site.CreatePushedRepositoryAsync("acme/gone", 81);
        var (held, _) = await site.CreatePushedRepositoryAsync("acme/held", 82);
        await site.WaitForMirrorsAsync(gone, "tokyo");
        await site.WaitForMirrorsAsync(held, "tokyo");
        gitlab.Grant("alice", Token, "acme/gone", "acme/held");
        gitlab.RefusePacks = true;
        Assert.AreEqual(0, (await CloneAsync(site, CloneUrl(port, "acme/held", "alice", Token))).ExitCode, "the mirror was not served before its destroy");

        await site.Hooks.AcceptedAsync(Hooks.ProjectEvent("project_destroy", 81, "acme/gone"));
        await GeoSite.WaitUntilAsync(() => site.QuerySecondaryAsync<bool>("tokyo", "SELECT state = 'destroyed' FROM projects WHERE project_id = 81"),
            Timeout, () => "the first destroy was not applied");
        await site.Hooks.AcceptedAsync(Hooks.ProjectEvent("project_destroy", 82, "acme/held"));
        await GeoSite.WaitUntilAsync(() => site.QuerySecondaryAsync<bool>("tokyo", "SELECT EXISTS (SELECT 1 FROM held_destroys WHERE project_id = 82)"),
            Timeout, () => "the second destroy was not held");
        Assert.IsTrue(Directory.Exists(site.MirrorPath("tokyo", "acme/held")), "the held project's mirror is gone");

        // The primary destroyed it: the site sends the client there (which serves no pack here) rather than serve the
        // copy it keeps only to undo a mistake, even to a credential the primary accepted a moment ago (the cache).
        var clone = await CloneAsync(site, CloneUrl(port, "acme/held", "alice", Token));
        Assert.AreNotEqual(0, clone.ExitCode, "a project whose destroy is held was served from its mirror");
        StringAssert.Contains(site.Secondary("tokyo").Log(), "acme/held.git/info/refs git-upload-pack → 302 redirected to the primary: the safety net holds its destroy");
    }

    /// <summary>
    /// A site whose authorized_keys (written by geo-secondary, read by a real sshd) run "geo-secondary git-shell key-&lt;id&gt;":
    /// what an operator installs, with the site's settings (and <paramref name="extra"/>, which geo-secondary gets too).
    /// </summary>
    private static Task<(GeoSite Site, GitLabStandIn GitLab, int Port)> StartWithSshAsync(
        SshServer sshd, IReadOnlyDictionary<string, string>? extra = null, Func<GeoSite, Task<Dictionary<string, string>>>? more = null, bool register = false) =>
        StartAsync(extra, register: register, more: async (s, g) =>
        {
            var secretFile = Path.Combine(sshd.Folder, "gitlab_shell_secret");
            await File.WriteAllTextAsync(secretFile, g.ShellSecret + "\n");
            var dotnet = (await Shell.RunAsync("sh", s.Root, "-c", "command -v dotnet")).Trim();
            var dll = TestServers.SecondaryProgram;
            var exports = string.Concat((extra ?? new Dictionary<string, string>()).Select(e => $"export GEO_{e.Key.Replace(":", "__", StringComparison.Ordinal)}='{e.Value}'\n"));
            // sshd starts it as "<it> git-shell key-<id>".
            var shell = await sshd.WriteScriptAsync("geo-secondary", $"""
                export GEO_ConnectionStrings__Postgres='{TestServers.ConnectionString(s.SecondaryDatabase("tokyo"))}'
                export GEO_Secondary__MirrorRoot='{s.MirrorRoot("tokyo")}'
                export GEO_Secondary__PrimaryGitUrl='{s.StorageRoot}'
                export GEO_Secondary__PrimaryCloneUrl='{g.Url}'
                export GEO_Secondary__GitLabShellSecretFile='{secretFile}'
                {exports}exec '{dotnet}' '{dll}' "$@"
                """);
            var settings = new Dictionary<string, string>
            {
                ["Keys:AuthorizedKeysFile"] = sshd.AuthorizedKeysFile,
                ["Keys:ShellCommand"] = shell + " git-shell",
                ["Keys:SshUser"] = SshServer.User,
            };
            foreach (var (key, value) in more is null ? [] : await more(s))
            {
                settings[key] = value;
            }

            return settings;
        });

    /// <summary>Adds a key on the primary (key_create hook) and waits for the site's authorized_keys to run git-shell for it.</summary>
    private static async Task<(string Private, string Public)> AddKeyAsync(GeoSite site, SshServer sshd, long id)
    {
        var key = await KeyPairAsync(Path.Combine(site.Root, "keys"));
        await site.Hooks.AcceptedAsync(Hooks.Key("key_create", id, key.Public, "alice"));
        await GeoSite.WaitUntilAsync(async () => File.Exists(sshd.AuthorizedKeysFile) && (await File.ReadAllTextAsync(sshd.AuthorizedKeysFile)).Contains($"git-shell key-{id}", StringComparison.Ordinal),
            Timeout, () => $"key {id} never reached authorized_keys");
        return key;
    }

    private static string SshCommand(string privateKey) =>
        $"ssh -i {privateKey} -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR";

    private static async Task<(int ExitCode, string Output, string? Main)> SshCloneAsync(GeoSite site, string privateKey, string url)
    {
        var target = Path.Combine(site.Root, "clones", Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        var (code, output) = await GitWithSshAsync(site.Root, SshCommand(privateKey), "clone", "--bare", url, target);
        var main = code == 0 ? (await Shell.RunAsync("git", target, "rev-parse", "refs/heads/main")).Trim() : null;
        return (code, output, main);
    }

    private static async Task<(string Private, string Public)> KeyPairAsync(string folder)
    {
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, "id_" + Guid.NewGuid().ToString("N")[..6]);
        await Shell.RunAsync("ssh-keygen", folder, "-q", "-t", "ed25519", "-N", "", "-f", path);
        return (path, (await File.ReadAllTextAsync(path + ".pub")).Trim());
    }
}
