using System.Diagnostics;
using Geo.Events.Core.Observability;
using Microsoft.Extensions.Options;

namespace Geo.Events.Secondary.Serving;

/// <summary>
/// git's smart HTTP on Secondary:ServeUrls, read-only: <c>git clone http://&lt;site&gt;/&lt;group&gt;/&lt;project&gt;.git</c>.
/// For each request: a push is refused with the primary's URL; an info/refs for a mirror this site cannot serve fresh
/// (<see cref="ServableMirrors"/>) is redirected to the primary, which git follows; every other request is served from
/// the mirror by <c>git http-backend</c> once the primary said this credential may read the repository
/// (<see cref="PrimaryGitAccess"/>). Nothing else answers on these addresses.
/// </summary>
public sealed class GitHttpServing(
    ServableMirrors mirrors, PrimaryGitAccess access, IOptions<ServeOptions> options, IOptions<SecondaryOptions> site, ILogger<GitHttpServing> logger)
{
    private static readonly string[] GitPaths = ["/info/refs", "/git-upload-pack", "/git-receive-pack"];

    private string PrimaryBase => access.PrimaryBase;

    public async Task HandleAsync(HttpContext context)
    {
        var started = Stopwatch.GetTimestamp();
        var request = context.Request;
        var cancellationToken = context.RequestAborted;
        var path = request.Path.Value ?? "";
        var gitPath = GitPaths.FirstOrDefault(p => path.EndsWith(p, StringComparison.Ordinal));
        var named = gitPath is null ? null : ServableMirrors.Parse(path[..^gitPath.Length]);
        if (named is not { } repository)
        {
            await AnswerAsync(context, StatusCodes.Status404NotFound, "Not a repository of this site: clone URLs look like /<group>/<project>.git");
            return;
        }

        var service = gitPath == "/info/refs" ? request.Query["service"].ToString() : gitPath![1..];
        var (outcome, bytes) = await ServeAsync(context, repository, gitPath!, service, cancellationToken);
        // One line per request, never a credential: whether there was one is enough to read a refusal.
        logger.LogInformation(
            "{Method} {Repository}{GitPath} {Service} → {Status} {Outcome}, {Bytes} bytes in {Ms:0} ms (credentials: {HasCredentials})",
            request.Method, repository.GitName, gitPath, service, context.Response.StatusCode, outcome, bytes,
            Stopwatch.GetElapsedTime(started).TotalMilliseconds, request.Headers.Authorization.Count > 0 ? "yes" : "none");
    }

    private async Task<(string Outcome, long Bytes)> ServeAsync(HttpContext context, ServableMirrors.Named repository, string gitPath, string service, CancellationToken cancellationToken)
    {
        var primaryUrl = $"{PrimaryBase}/{repository.GitName}";
        if (service == "git-receive-pack")
        {
            await AnswerAsync(context, StatusCodes.Status403Forbidden,
                $"This site ({site.Value.Name}) serves read-only mirrors. Push to the primary: {primaryUrl}");
            return ("push refused", 0);
        }

        if (service != "git-upload-pack" || (gitPath == "/info/refs") != HttpMethods.IsGet(context.Request.Method)
            || (gitPath != "/info/refs" && !HttpMethods.IsPost(context.Request.Method)))
        {
            await AnswerAsync(context, StatusCodes.Status403Forbidden, "Only git's smart HTTP protocol is served here (git-upload-pack).");
            return ("not smart HTTP", 0);
        }

        // The freshness decision is taken on info/refs, where git follows a redirect; the POSTs that follow an info/refs
        // served here are served from the same mirror (git does not follow a redirect on POST).
        var initial = gitPath == "/info/refs";
        var verdict = initial
            ? await mirrors.DecideAsync(repository, options.Value.ServeMaxLag, cancellationToken)
            : await mirrors.FindAsync(repository, cancellationToken);
        if (!verdict.Local)
        {
            if (!initial)
            {
                await AnswerAsync(context, StatusCodes.Status404NotFound, $"This site cannot serve {repository.GitName} ({verdict.Reason}). Clone from {primaryUrl}");
                return ("not here: " + verdict.Reason, 0);
            }

            GeoMetrics.ServeClones.WithLabels(PrimaryGitAccess.Protocol, "redirected").Inc();
            context.Response.Redirect($"{primaryUrl}/info/refs?service=git-upload-pack");
            return ("redirected to the primary: " + verdict.Reason, 0);
        }

        var decision = await access.DecideAsync(context.Request.Headers.Authorization.Count > 0 ? context.Request.Headers.Authorization.ToString() : null, repository, cancellationToken);
        if (!decision.Yes)
        {
            if (decision.Outcome == AccessOutcome.Moved)
            {
                GeoMetrics.ServeClones.WithLabels(PrimaryGitAccess.Protocol, "redirected").Inc();
                context.Response.Redirect($"{primaryUrl}/info/refs?service=git-upload-pack");
                return ("redirected: the primary moved it", 0);
            }

            if (decision.WwwAuthenticate is { } challenge)
            {
                context.Response.Headers.WWWAuthenticate = challenge;
            }

            await AnswerAsync(context, decision.Status, decision.Message);
            return (decision.Label, 0);
        }

        if (initial)
        {
            GeoMetrics.ServeClones.WithLabels(PrimaryGitAccess.Protocol, "local").Inc();
        }

        var bytes = await GitHttpBackend.RunAsync(context, verdict.DataPath!, gitPath, cancellationToken);
        GeoMetrics.ServeBytes.WithLabels(PrimaryGitAccess.Protocol).Inc(bytes);
        return ("served (" + decision.Label + ")", bytes);
    }

    /// <summary>A text/plain answer: git prints its lines as <c>remote: …</c>.</summary>
    private static async Task AnswerAsync(HttpContext context, int status, string message)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        await context.Response.WriteAsync(message + "\n", context.RequestAborted);
    }
}
