using System.Diagnostics;
using System.Globalization;
using Geo.Events.Core.Configuration;
using Geo.Events.Secondary.Repositories;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Geo.Events.Secondary.Serving;

/// <summary>
/// <c>geo-secondary git-shell key-&lt;id&gt;</c>: the forced command of the authorized_keys lines this site writes when
/// Keys:ShellCommand names it, in place of gitlab-shell (which would serve from the primary's Gitaly). It reads the
/// client's command from <c>SSH_ORIGINAL_COMMAND</c>, refuses pushes with the primary's URL, sends the client to the
/// primary when the mirror is not fresh, asks the primary's internal API whether the key may read the project
/// (<see cref="InternalApiAccess"/>, cached like HTTP's decisions), then runs <c>git upload-pack</c> on the mirror.
/// stdout belongs to git's protocol: messages for the user go to stderr, which ssh shows them.
/// </summary>
public static class GitShellCommand
{
    public const string Verb = "git-shell";

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length != 2 || !args[1].StartsWith("key-", StringComparison.Ordinal)
            || !long.TryParse(args[1]["key-".Length..], NumberStyles.None, CultureInfo.InvariantCulture, out var keyId) || keyId <= 0)
        {
            return await FailAsync("usage: geo-secondary git-shell key-<id>   (the forced command of an authorized_keys line)", 2);
        }

        var configuration = GeoConfiguration.ForCommand();
        var section = configuration.GetSection(SecondaryOptions.Section);
        var serve = section.Get<ServeOptions>() ?? new ServeOptions();
        var mirrorOptions = section.Get<MirrorOptions>() ?? new MirrorOptions();
        if (serve.PrimaryBase(mirrorOptions.PrimaryGitUrl) is not { } primaryBase || mirrorOptions.MirrorRoot.Length == 0)
        {
            return await FailAsync("this site is not set up to serve git over SSH (Secondary:PrimaryCloneUrl and Secondary:MirrorRoot are needed)", 1);
        }

        if (Parse(Environment.GetEnvironmentVariable("SSH_ORIGINAL_COMMAND")) is not { } command)
        {
            await Console.Error.WriteLineAsync($"Welcome to a geo-secondary site of {primaryBase}: clone with git clone <this host>:<group>/<project>.git");
            return 0;
        }

        if (ServableMirrors.Parse(command.Path) is not { } repository)
        {
            return await FailAsync($"'{command.Path}' is not a project path", 1);
        }

        var primaryUrl = $"{primaryBase}/{repository.GitName}";
        var started = Stopwatch.GetTimestamp();
        await using var dataSource = NpgsqlDataSource.Create(configuration.GetConnectionString("Postgres")!);
        var outcome = new ServeOutcome { Repository = repository.GitName, Service = command.Service, KeyId = keyId };
        int code;
        (outcome, code) = await ServeAsync(dataSource, serve, mirrorOptions, primaryBase, primaryUrl, keyId, command.Service, repository, outcome);
        try
        {
            // One statement, after the transfer: geo-secondary counts it (geo_serve_*{protocol="ssh"}) and logs it.
            await ServeOutcomes.RecordAsync(dataSource, outcome with { DurationMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds }, CancellationToken.None);
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            // The clone's outcome does not depend on it; the figures of this one connection are lost.
        }

        return code;
    }

    private static async Task<(ServeOutcome Outcome, int Code)> ServeAsync(
        NpgsqlDataSource dataSource, ServeOptions serve, MirrorOptions mirrorOptions, string primaryBase, string primaryUrl,
        long keyId, string service, ServableMirrors.Named repository, ServeOutcome outcome)
    {
        if (service != "git-upload-pack")
        {
            return (outcome with { Outcome = "push refused" },
                await FailAsync($"This site serves read-only mirrors ({service} is not served here). Push to the primary: {primaryUrl}", 1));
        }

        try
        {
            var layout = new MirrorLayout(Microsoft.Extensions.Options.Options.Create(mirrorOptions), NullLogger<MirrorLayout>.Instance);
            var verdict = await new ServableMirrors(dataSource, layout).DecideAsync(repository, serve.ServeMaxLag, CancellationToken.None);
            if (!verdict.Local)
            {
                return (outcome with { Outcome = "redirected to the primary: " + verdict.Reason, Served = "redirected" },
                    await FailAsync($"This site's mirror of {repository.GitName} is not served now ({verdict.Reason}). Clone from the primary: {primaryUrl}", 1));
            }

            var secret = serve.GitLabShellSecretFile.Length > 0 && File.Exists(serve.GitLabShellSecretFile) ? await File.ReadAllTextAsync(serve.GitLabShellSecretFile) : "";
            if (secret.Trim().Length == 0)
            {
                return (outcome with { Outcome = "no shared secret (Secondary:GitLabShellSecretFile)" },
                    await FailAsync($"this site cannot ask the primary for access: Secondary:GitLabShellSecretFile is not set or empty. Clone from {primaryUrl}", 1));
            }

            using var http = new HttpClient { Timeout = serve.AuthTimeout };
            var access = new InternalApiAccess(http, new AccessCache(dataSource), primaryBase, secret, serve.AuthCacheTtl);
            var asking = Stopwatch.GetTimestamp();
            var decision = await access.DecideAsync(keyId, repository, CancellationToken.None);
            outcome = outcome with
            {
                Decision = decision.Label,
                DecisionSource = decision.Outcome == AccessOutcome.Cached ? "cached" : "asked",
                DecisionSeconds = Stopwatch.GetElapsedTime(asking).TotalSeconds,
            };
            if (!decision.Yes)
            {
                return (outcome with { Outcome = decision.Label }, await FailAsync(decision.Message, 1));
            }

            // git upload-pack on the mirror, found by id (never by the client's path), with the client's stdin; its
            // stdout is copied to ours so that the bytes served are counted.
            var start = new ProcessStartInfo("git", ["upload-pack", "--strict", verdict.DataPath!]) { UseShellExecute = false, RedirectStandardOutput = true };
            using var git = Process.Start(start) ?? throw new InvalidOperationException("could not start git upload-pack");
            var (bytes, clientGone) = await CopyAsync(git.StandardOutput.BaseStream);
            if (clientGone)
            {
                git.Kill(entireProcessTree: true);
            }

            await git.WaitForExitAsync();
            return (outcome with { Outcome = clientGone ? $"client went away ({decision.Label})" : $"served ({decision.Label})", Served = "local", Bytes = bytes },
                clientGone ? 1 : git.ExitCode);
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            return (outcome with { Outcome = "registry unavailable" },
                await FailAsync($"this site's registry is unavailable ({e.Message}). Clone from the primary: {primaryUrl}", 1));
        }
    }

    /// <summary>
    /// Copies git's protocol stream to our stdout as it comes (each read flushed: git waits for answers), counting bytes;
    /// true when the client went away (our stdout closed) before git was done.
    /// </summary>
    private static async Task<(long Bytes, bool ClientGone)> CopyAsync(Stream from)
    {
        await using var to = Console.OpenStandardOutput();
        var buffer = new byte[64 * 1024];
        long total = 0;
        int read;
        while ((read = await from.ReadAsync(buffer)) > 0)
        {
            try
            {
                await to.WriteAsync(buffer.AsMemory(0, read));
                await to.FlushAsync();
            }
            catch (IOException)
            {
                return (total, true);
            }

            total += read;
        }

        return (total, false);
    }

    /// <summary>What the client asked: <c>git-upload-pack 'group/project.git'</c> (or <c>git upload-pack</c>), as gitlab-shell accepts it.</summary>
    public static (string Service, string Path)? Parse(string? original)
    {
        if (string.IsNullOrWhiteSpace(original))
        {
            return null;
        }

        var text = original.Trim();
        var space = text.IndexOf(' ');
        if (space < 0)
        {
            return (text, "");
        }

        var (service, rest) = (text[..space], text[(space + 1)..].Trim());
        if (service == "git" && rest.IndexOf(' ') is > 0 and var second)
        {
            (service, rest) = ("git-" + rest[..second], rest[(second + 1)..].Trim());
        }

        if (rest.Length >= 2 && rest[0] is '\'' or '"' && rest[^1] == rest[0])
        {
            rest = rest[1..^1];
        }

        return (service, rest.TrimStart('/'));
    }

    private static async Task<int> FailAsync(string message, int code)
    {
        await Console.Error.WriteLineAsync("geo-secondary: " + message);
        return code;
    }
}
