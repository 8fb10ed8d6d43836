using System.Net;
using Geo.Events.Testing;
using static Geo.Events.Testing.PrimaryRepository;

namespace Geo.Events.IntegrationTests;

/// <summary>
/// <c>Secondary:PrimaryGitUrl</c> over the transports a real GitLab offers besides a local folder: smart HTTP
/// behind a server that demands credentials (git's own http-backend), and ssh:// through a real sshd. A mirror
/// made over either has exactly the primary's refs; wrong credentials fail visibly, with a reason that says
/// so and names the primary's git server (not the project, so one cause is one dead-letter group), and the secret
/// is never written anywhere we can read.
/// </summary>
[TestClass]
public sealed class TransportTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    // Failures straight to the error queue: the refused fetch is one dead letter, at once.
    private static readonly Dictionary<string, string> NoRetries = new() { ["Retry:Immediate"] = "none", ["Retry:Delays"] = "none" };

    [TestMethod]
    public async Task HttpWithCredentialsMirrorsThePrimaryAndWrongCredentialsAreRefusedVisibly()
    {
        await using var site = await GeoSite.StartAsync(["tokyo", "berlin"], startSecondaries: false, register: true);
        var password = "pat-" + Guid.NewGuid().ToString("N");
        await using var git = await GitHttpServer.StartAsync(site.StorageRoot, new NetworkCredential("geo-mirror", password));
        var wrong = "wrong-" + Guid.NewGuid().ToString("N");
        site.StartSecondary("tokyo", new Dictionary<string, string>(NoRetries)
        {
            ["Secondary:PrimaryGitUrl"] = git.BaseUrl.ToString(),
            ["Secondary:GitUsername"] = "geo-mirror",
            ["Secondary:GitPassword"] = password,
        });
        site.StartSecondary("berlin", new Dictionary<string, string>(NoRetries)
        {
            ["Secondary:PrimaryGitUrl"] = git.BaseUrl.ToString(),
            ["Secondary:GitUsername"] = "geo-mirror",
            ["Secondary:GitPassword"] = wrong,
        });
        await site.WaitForSecondaryAsync("tokyo");
        await site.WaitForSecondaryAsync("berlin");

        var repo = await PushBranchesAndTagAsync(site, "transport/over-http", 41);
        await site.WaitForMirrorsAsync(repo, "tokyo");
        Assert.IsTrue(git.Authorized > 0, "the mirror was not fetched through the HTTP server");

        var reason = await AssertRefusedVisiblyAsync(site, "berlin", repo, wrong, "transport/over-http");
        StringAssert.Contains(reason, "refused the credentials of Secondary:GitUsername 'geo-mirror' (HTTP 401)");
        StringAssert.Contains(reason, $"for {git.BaseUrl.ToString().TrimEnd('/')}", "the reason does not name the primary's git server");
        Assert.IsTrue(git.Refused > 0, "the HTTP server never refused berlin's credentials");
    }

    [TestMethod]
    public async Task SshMirrorsThePrimaryAndAnUnauthorizedKeyIsRefusedVisibly()
    {
        await using var site = await GeoSite.StartAsync(["tokyo", "berlin"], startSecondaries: false, register: true);
        await using var sshd = await SshServer.CreateAsync();
        var good = Path.Combine(sshd.Folder, "mirror_key");
        var stranger = Path.Combine(sshd.Folder, "stranger_key");
        foreach (var key in new[] { good, stranger })
        {
            await Shell.RunAsync("ssh-keygen", sshd.Folder, "-q", "-t", "ed25519", "-N", "", "-C", Path.GetFileName(key), "-f", key);
        }

        // Only the mirror's key may log in; no forced command, so the session runs git-upload-pack as git asks.
        await File.WriteAllTextAsync(sshd.AuthorizedKeysFile, await File.ReadAllTextAsync(good + ".pub"));
        await sshd.StartAsync();

        // geo-secondary's libgit2 runs the system's ssh client (GIT_SSH_COMMAND, as for git itself).
        var url = $"ssh://{SshServer.User}@127.0.0.1:{sshd.Port}{site.StorageRoot}";
        static Dictionary<string, string> Ssh(string key) => new()
        {
            ["GIT_SSH_COMMAND"] = $"ssh -i {key} -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR",
        };
        site.StartSecondary("tokyo", new Dictionary<string, string>(NoRetries) { ["Secondary:PrimaryGitUrl"] = url }, Ssh(good));
        site.StartSecondary("berlin", new Dictionary<string, string>(NoRetries) { ["Secondary:PrimaryGitUrl"] = url }, Ssh(stranger));
        await site.WaitForSecondaryAsync("tokyo");
        await site.WaitForSecondaryAsync("berlin");

        var repo = await PushBranchesAndTagAsync(site, "transport/over-ssh", 42);
        await site.WaitForMirrorsAsync(repo, "tokyo");
        var goodFingerprint = (await Shell.RunAsync("ssh-keygen", sshd.Folder, "-l", "-f", good + ".pub")).Split(' ')[1];
        StringAssert.Contains(sshd.SafeLog(), $"Accepted publickey for {SshServer.User}", "the mirror was not fetched through sshd");
        StringAssert.Contains(sshd.SafeLog(), goodFingerprint, "sshd did not see the mirror's key");

        var privateKey = (await File.ReadAllLinesAsync(stranger)).Skip(1).First(); // a line of the private key's body
        var reason = await AssertRefusedVisiblyAsync(site, "berlin", repo, privateKey, "transport/over-ssh");
        StringAssert.Contains(reason, $"over ssh from {url}:", "the reason does not name the primary's git server and its transport");
        StringAssert.Contains(site.Secondary("berlin").Log(), "Permission denied (publickey)", "ssh's own refusal is not in the log");
    }

    /// <summary>A project with two branches and an annotated tag, each pushed and announced.</summary>
    private static async Task<PrimaryRepository> PushBranchesAndTagAsync(GeoSite site, string path, long id)
    {
        var (repo, first) = await site.CreatePushedRepositoryAsync(path, id);
        await repo.GitAsync("checkout", "-q", "-b", "feature");
        var feature = await repo.CommitAsync("on feature");
        await repo.GitAsync("push", "-q", "origin", "feature");
        await site.Hooks.AcceptedAsync(Hooks.Push("push", id, path, "refs/heads/feature", Zero, feature));
        await repo.GitAsync("tag", "-a", "v1.0", "-m", "release", first);
        await repo.GitAsync("push", "-q", "origin", "v1.0");
        await site.Hooks.AcceptedAsync(Hooks.Push("tag_push", id, path, "refs/tags/v1.0", Zero, await repo.ShaAsync("v1.0")));
        var refs = await repo.RefsAsync();
        Assert.AreEqual(3, refs.Count, "the primary should have main, feature and v1.0");
        return repo;
    }

    /// <summary>
    /// The refused fetch: dead-lettered (geo-admin dlq), the project failed in the registry with the same reason
    /// (returned for the caller to check), no mirror made, and <paramref name="secret"/> in none of them nor in the log.
    /// </summary>
    private static async Task<string> AssertRefusedVisiblyAsync(GeoSite site, string name, PrimaryRepository repo, string secret, string path)
    {
        await GeoSite.WaitUntilAsync(
            async () => await site.QueryPrimaryAsync<long>("SELECT count(*) FROM dead_letters WHERE secondary = @name AND project_path = @path", new { name, path }) > 0,
            Timeout, () => $"{name}'s refused fetch was not dead-lettered:\n{site.Secondary(name).Log()}");
        var reason = await site.QueryPrimaryAsync<string>(
            "SELECT exception_message FROM dead_letters WHERE secondary = @name AND project_path = @path ORDER BY id LIMIT 1", new { name, path });
        Console.WriteLine($"{name}: dead letter reason: {reason}");

        var state = await site.QuerySecondaryAsync<(string State, string? Error)>(name, "SELECT state, last_error FROM projects WHERE path_with_namespace = @path", new { path });
        Assert.AreEqual("failed", state.State);
        Assert.AreEqual(reason, state.Error, "the registry shows another reason than the dead letter");
        Assert.AreEqual(0, (await ReadRefsAsync(site.MirrorPath(name, repo.PathWithNamespace))).Count, "a mirror appeared without credentials");

        var everything = await site.QueryPrimaryAsync<string>("SELECT coalesce(string_agg(concat_ws(' ', exception_message, stack_trace, headers::text, encode(body, 'escape')), ' '), '') FROM dead_letters");
        Assert.IsFalse(everything.Contains(secret, StringComparison.Ordinal), "a dead letter holds the secret");
        Assert.IsFalse(site.Secondary(name).Log().Contains(secret, StringComparison.Ordinal), $"{name}'s log holds the secret");
        Assert.IsFalse(site.Primary.Log().Contains(secret, StringComparison.Ordinal), "geo-primary's log holds the secret");
        return reason;
    }
}
