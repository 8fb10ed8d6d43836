using System.CommandLine;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Geo.Events.Contracts.Api;
using Geo.Events.Core.Secondaries;

namespace Geo.Events.Admin.Secondaries;

/// <summary>
/// <c>geo-admin wait &lt;project&gt; --secondary S [--ref R] [--sha S] [--timeout 30s]</c>: "is my commit on my site
/// yet?" Polls the secondary's own <c>GET /api/v1/mirrors/{id}</c> until its mirror has what was asked (exit 0) or
/// the timeout passes (exit 6, saying how far behind it is). What a CI job at a remote site runs before it clones.
/// </summary>
public static class WaitCommand
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(10);

    public static Command Build()
    {
        var project = new Argument<string>("project") { Description = "the project's id or path (a path is looked up in geo-primary's event log)" };
        var secondary = new Option<string>("--secondary") { Description = "the secondary whose mirror must have it", Required = true };
        var secondaryUrl = new Option<string?>("--secondary-url") { Description = "the secondary's HTTP address (default: the URL it registered with, Secondary:PublicUrl)" };
        var refName = new Option<string?>("--ref") { Description = "a full ref name, e.g. refs/heads/main (default: every ref)" };
        var sha = new Option<string?>("--sha") { Description = "the commit wanted (default: the primary's current commit of the ref, or of every ref)" };
        var timeout = new Option<string>("--timeout") { Description = "give up after this long (exit 6)", DefaultValueFactory = _ => "30s" };
        var output = new Option<string>("--output", "-o") { Description = "table (default) or json", DefaultValueFactory = _ => "table" };
        var wait = new Command("wait", "wait until a secondary's mirror has a ref at a commit (default: the primary's current refs); exit 6 on timeout")
        {
            project, secondary, secondaryUrl, refName, sha, timeout, output,
        };
        wait.SetAction((parse, ct) => Cli.Run(ctx => WaitAsync(
            ctx, parse.GetValue(project)!, parse.GetValue(secondary)!, parse.GetValue(secondaryUrl), parse.GetValue(refName), parse.GetValue(sha)?.ToLowerInvariant(),
            SecondaryCommands.Duration(parse.GetValue(timeout)!, "--timeout"), parse.GetValue(output)!, ct)));
        return wait;
    }

    private static async Task<int> WaitAsync(
        AdminContext context, string project, string secondary, string? secondaryUrl, string? refName, string? sha, TimeSpan timeout, string output, CancellationToken ct)
    {
        Cli.CheckOutput(output);
        if (Core.Messaging.GeoTopology.SecondaryNameProblem(secondary) is { } nameProblem)
        {
            throw new UsageException($"--secondary: {nameProblem}");
        }

        if (refName is not null && (!refName.StartsWith("refs/", StringComparison.Ordinal) || refName.Any(char.IsControl)))
        {
            throw new UsageException($"--ref must be a full ref name such as refs/heads/main, not '{refName}'");
        }

        if (sha is not null && !(sha.Length is 40 or 64 && sha.All(char.IsAsciiHexDigitLower)))
        {
            throw new UsageException("--sha must be a full commit id (40 or 64 hex digits)");
        }

        var id = await ReconcileCommands.ResolveProjectAsync(context, project, ct);
        var baseUrl = secondaryUrl ?? (context.Api is { } api
                ? (await api.SecondaryAsync(secondary, ct))?.Url
                : (await new SecondaryStore(context.DataSource).RowsAsync(secondary, ct)).SingleOrDefault()?.Url)
            ?? throw new UsageException($"secondary '{secondary}' is not registered with a URL (Secondary:PublicUrl): give --secondary-url");
        if (!Uri.TryCreate(baseUrl.TrimEnd('/') + "/", UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
        {
            throw new UsageException($"the secondary's URL must be an absolute http(s) URL, not '{baseUrl}'");
        }

        var query = $"api/v1/mirrors/{id}?" + string.Join('&', new[] { ("ref", refName), ("sha", sha) }
            .Where(p => p.Item2 is not null).Select(p => $"{p.Item1}={Uri.EscapeDataString(p.Item2!)}"));
        using var http = new HttpClient { BaseAddress = url, Timeout = RequestTimeout };
        http.DefaultRequestHeaders.Authorization = MirrorApiCredentials();
        var clock = Stopwatch.StartNew();
        MirrorFreshness? last = null;
        string? lastError = null;
        while (true)
        {
            try
            {
                using var response = await http.GetAsync(query, ct);
                if (response.StatusCode == System.Net.HttpStatusCode.BadRequest)
                {
                    throw new UsageException($"{secondary} refused the question: {await response.Content.ReadAsStringAsync(ct)}");
                }

                if (response.StatusCode is System.Net.HttpStatusCode.Unauthorized or System.Net.HttpStatusCode.Forbidden or System.Net.HttpStatusCode.NotFound)
                {
                    throw new UsageException($"{secondary} refused the question ({(int)response.StatusCode}): {await response.Content.ReadAsStringAsync(ct)}; "
                        + "set GEO_MIRROR_API_TOKEN, or GEO_GIT_USERNAME and GEO_GIT_PASSWORD (in a CI job CI_JOB_TOKEN is used)");
                }

                response.EnsureSuccessStatusCode();
                last = await response.Content.ReadFromJsonAsync<MirrorFreshness>(ApiJson.Options, ct);
                lastError = null;
                if (last is { UpToDate: true })
                {
                    Print(output, last, $"{secondary} has {What(refName, sha)} of {last.Path ?? id.ToString(System.Globalization.CultureInfo.InvariantCulture)} (waited {clock.Elapsed.TotalSeconds:0.0}s)");
                    return ExitCodes.Ok;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException && !ct.IsCancellationRequested)
            {
                lastError = $"cannot ask {secondary} at {url}: {e.Message}";
            }

            if (clock.Elapsed + PollInterval > timeout)
            {
                var why = lastError ?? last?.Detail ?? "no answer";
                if (last is not null && output == "json")
                {
                    Console.WriteLine(JsonSerializer.Serialize(last, Cli.Json));
                }

                await Console.Error.WriteLineAsync(
                    $"geo-admin: after {clock.Elapsed.TotalSeconds:0.0}s {secondary} does not have {What(refName, sha)} of project {id}: {why}"
                    + (last is { EventsPending: true } ? " (events for it are still pending there)" : "")
                    + (last?.LastError is { } error ? $"; its last error: {error}" : ""));
                return ExitCodes.TimedOut;
            }

            await Task.Delay(PollInterval, ct);
        }
    }

    /// <summary>
    /// The secondary answers only callers the primary lets read the project, or its mirror API token: GEO_MIRROR_API_TOKEN
    /// (Bearer), else GEO_GIT_USERNAME and GEO_GIT_PASSWORD, else in a CI job gitlab-ci-token and CI_JOB_TOKEN (HTTP Basic).
    /// </summary>
    private static System.Net.Http.Headers.AuthenticationHeaderValue? MirrorApiCredentials()
    {
        if (Environment.GetEnvironmentVariable("GEO_MIRROR_API_TOKEN") is { Length: > 0 } token)
        {
            return new("Bearer", token);
        }

        var (user, password) = Environment.GetEnvironmentVariable("GEO_GIT_PASSWORD") is { Length: > 0 } given
            ? (Environment.GetEnvironmentVariable("GEO_GIT_USERNAME") ?? "", given)
            : ("gitlab-ci-token", Environment.GetEnvironmentVariable("CI_JOB_TOKEN"));
        return password is { Length: > 0 }
            ? new("Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{user}:{password}")))
            : null;
    }

    private static string What(string? refName, string? sha) => (refName, sha) switch
    {
        (null, null) => "the primary's current refs",
        (null, { } commit) => $"commit {commit[..12]}",
        ({ } name, null) => $"the primary's current {name}",
        ({ } name, { } commit) => $"{name} at {commit[..12]}",
    };

    private static void Print(string output, MirrorFreshness answer, string line)
    {
        if (output == "json")
        {
            Console.WriteLine(JsonSerializer.Serialize(answer, Cli.Json));
        }
        else
        {
            Console.WriteLine(line);
        }
    }
}
