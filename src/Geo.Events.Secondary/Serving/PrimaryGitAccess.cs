using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using Geo.Events.Core.Observability;

namespace Geo.Events.Secondary.Serving;

/// <summary>
/// Smart HTTP's access decisions, taken by the primary: the client's own <c>Authorization</c> header is presented to
/// GitLab's git endpoint for the same repository, <c>GET /&lt;path&gt;.git/info/refs?service=git-upload-pack</c> with
/// <c>Git-Protocol: version=2</c> (so GitLab answers its capabilities, a few hundred bytes, and lists no refs). GitLab
/// answers 200 with <c>application/x-git-upload-pack-advertisement</c> when that credential may read it (a personal,
/// project or group access token, <c>gitlab-ci-token</c> with a job token, a deploy token, a password; nothing for a
/// public project); 401 with <c>WWW-Authenticate: Basic</c> for missing or unknown credentials; 404 (or 403) for a
/// repository that does not exist for them or that they may not download. Anything else counts as no.
/// </summary>
public sealed class PrimaryGitAccess(HttpClient http, AccessCache cache, string primaryBase, TimeSpan ttl, ILogger logger)
{
    public const string Protocol = "http";

    /// <summary>The primary's base URL, named in refusals and redirects.</summary>
    public string PrimaryBase => primaryBase;

    public async Task<AccessDecision> DecideAsync(string? authorization, ServableMirrors.Named repository, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var key = AccessCache.Key(Protocol, authorization ?? "", "git-upload-pack", repository.GitName);
        // git first asks without credentials and sends them only after a 401; for a private project that 401 is
        // remembered too (a "no", never a yes), so a cached clone costs the primary nothing at all.
        var anonymousKey = AccessCache.Key(Protocol, "", "needs-credentials", repository.GitName);
        AccessDecision decision;
        if (await cache.HoldsAsync(key, cancellationToken))
        {
            decision = new AccessDecision(AccessOutcome.Cached, StatusCodes.Status200OK, "");
        }
        else if (authorization is null && await cache.HoldsAsync(anonymousKey, cancellationToken))
        {
            decision = NeedsCredentials(null);
        }
        else
        {
            decision = await AskAsync(authorization, repository, cancellationToken);
            if (decision.Outcome == AccessOutcome.Allowed)
            {
                await cache.RememberAsync(key, ttl, cancellationToken);
            }
            else if (decision.Outcome == AccessOutcome.Unauthenticated && authorization is null)
            {
                await cache.RememberAsync(anonymousKey, ttl, cancellationToken);
            }
        }

        GeoMetrics.ServeDecisions.WithLabels(Protocol, decision.Label).Inc();
        GeoMetrics.ServeDecisionDuration.WithLabels(Protocol, decision.Outcome == AccessOutcome.Cached ? "cached" : "asked").Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
        return decision;
    }

    private async Task<AccessDecision> AskAsync(string? authorization, ServableMirrors.Named repository, CancellationToken cancellationToken)
    {
        var url = $"{primaryBase}/{repository.GitName}";
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{url}/info/refs?service=git-upload-pack");
        request.Headers.TryAddWithoutValidation("Git-Protocol", "version=2");
        request.Headers.UserAgent.Add(new ProductInfoHeaderValue("git", "2-geo-secondary"));
        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        try
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            var type = response.Content.Headers.ContentType?.MediaType;
            switch (response.StatusCode)
            {
                case HttpStatusCode.OK when type == "application/x-git-upload-pack-advertisement":
                    return new AccessDecision(AccessOutcome.Allowed, StatusCodes.Status200OK, "");
                case HttpStatusCode.Unauthorized:
                    return NeedsCredentials(response.Headers.WwwAuthenticate.ToString() is { Length: > 0 } challenge ? challenge : null);
                case HttpStatusCode.NotFound or HttpStatusCode.Forbidden:
                    return new AccessDecision(AccessOutcome.Denied, (int)response.StatusCode,
                        $"{primaryBase} says {repository.GitName} cannot be read with these credentials ({(int)response.StatusCode}): it does not exist for them, or they may not read it.");
                case >= HttpStatusCode.MultipleChoices and < HttpStatusCode.BadRequest:
                    return new AccessDecision(AccessOutcome.Moved, StatusCodes.Status302Found, $"{primaryBase} redirects {repository.GitName}: clone it from {url}");
                case >= HttpStatusCode.InternalServerError:
                    return Unreachable(url, $"it answered {(int)response.StatusCode}");
                default:
                    return new AccessDecision(AccessOutcome.Denied, StatusCodes.Status403Forbidden,
                        $"{primaryBase} did not allow reading {repository.GitName} (it answered {(int)response.StatusCode} {type}).");
            }
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning("Access to {Repository} not decided: the primary {Primary} did not answer: {Error}", repository.GitName, primaryBase, e.Message);
            return Unreachable(url, e is TaskCanceledException ? "it did not answer in time" : e.Message);
        }
    }

    private AccessDecision NeedsCredentials(string? challenge) => new(AccessOutcome.Unauthenticated, StatusCodes.Status401Unauthorized,
        $"HTTP Basic: Access denied by {primaryBase}. Use the credentials you use there (a token, gitlab-ci-token:$CI_JOB_TOKEN, a deploy token).",
        challenge ?? "Basic realm=\"GitLab\"");

    /// <summary>Without the primary's answer nothing is served, public or private: the site cannot tell a project still public from one just made private.</summary>
    private static AccessDecision Unreachable(string url, string why) => new(AccessOutcome.Unreachable, StatusCodes.Status503ServiceUnavailable,
        $"This site cannot reach the primary to check your access ({why}), so it serves nothing it has not recently checked. Clone from {url} or retry later.");
}
