using Geo.Events.Contracts;
using Geo.Events.Contracts.Api;
using LibGit2Sharp;

namespace Geo.Events.Secondary.Repositories;

/// <summary>
/// <c>GET /api/v1/mirrors/{id}?ref=R&amp;sha=S</c>: does this site's mirror of project <c>id</c> have ref R at
/// commit S (or commit S anywhere, or, without <c>sha</c>, the primary's current commit of R or of every ref)?
/// A CI runner asks its own site before it clones (<c>geo-admin wait</c>). It answers only for what is asked: the
/// commit of one named ref, and whether the refs match the primary's, never the list of refs. It answers only a
/// caller the primary lets read the project (HTTP Basic, decided and cached as for a clone: <c>gitlab-ci-token</c> and
/// the job's token) or one with the token whose SHA-256 is Secondary:MirrorApiTokenSha256 (Bearer; geo-primary's status
/// page, operators): the answer names the project's path and its last error, and costs an ls-remote to the primary.
/// </summary>
public static class MirrorEndpoints
{
    private const int MaxRefLength = 1024;

    public static void MapMirrorEndpoints(this IEndpointRouteBuilder app) => app.MapGet("/api/v1/mirrors/{id:long}", FreshnessAsync);

    private static async Task<IResult> FreshnessAsync(
        long id, string? @ref, string? sha, ProjectRegistry registry, MirrorLayout layout, MirrorFetcher fetcher,
        HttpContext http, Serving.PrimaryGitAccess access, Microsoft.Extensions.Options.IOptions<MirrorApiOptions> api, SafetyNet.SafetyNetState safetyNet, CancellationToken cancellationToken)
    {

        if (RefProblem(@ref) is { } refProblem)
        {
            return Results.Problem(title: "Bad ref", detail: refProblem, statusCode: StatusCodes.Status400BadRequest);
        }

        if (sha is not null && !IsObjectId(sha))
        {
            return Results.Problem(title: "Bad sha", detail: "'sha' must be a full commit id: 40 (SHA-1) or 64 (SHA-256) lowercase hex digits", statusCode: StatusCodes.Status400BadRequest);
        }

        if (await RefusalAsync(id, http, registry, access, api.Value, cancellationToken) is { } refusal)
        {
            return refusal;
        }

        var entry = await registry.FindAsync(id, RepositoryKind.Project, cancellationToken);
        var answer = new MirrorFreshness
        {
            ProjectId = id,
            Path = entry?.PathWithNamespace,
            State = entry?.State ?? "unknown",
            UpToDate = false,
            Detail = "",
            Ref = @ref,
            WantedSha = sha,
            EventsPending = entry is not null && entry.MaxSeenSequence > entry.LastSyncedSequence,
            SecondsSinceLastSync = entry?.SinceLastSync?.TotalSeconds,
            LastError = entry?.State == ProjectState.Failed ? await registry.LastErrorAsync(id, cancellationToken) : null,
            Held = await safetyNet.HoldAsync(id, cancellationToken),
        };
        if (entry is null)
        {
            return Results.Ok(answer with { Detail = $"no event for project {id} has reached this secondary yet" });
        }

        if (entry.Destroyed)
        {
            return Results.Ok(answer with { Detail = $"project {id} is destroyed on this secondary" });
        }

        var mirrorPath = layout.DataPath(id);
        if (!Directory.Exists(mirrorPath))
        {
            return Results.Ok(answer with { Detail = $"the mirror of {entry.PathWithNamespace} does not exist yet" });
        }

        answer = answer with { Checksum = Core.Repositories.RefsChecksum.Compute(mirrorPath) };
        using var mirror = new Repository(mirrorPath);
        if (sha is not null && @ref is null)
        {
            var has = mirror.Lookup<Commit>(sha) is not null;
            return Results.Ok(answer with { UpToDate = has, Detail = has ? "" : $"the mirror of {entry.PathWithNamespace} does not have commit {sha[..12]} yet" });
        }

        var mirrorRefs = mirror.Refs.Where(r => r.CanonicalName.StartsWith("refs/", StringComparison.Ordinal) && r is DirectReference)
            .ToDictionary(r => r.CanonicalName, r => r.TargetIdentifier, StringComparer.Ordinal);
        if (@ref is not null)
        {
            string? wanted = sha;
            if (wanted is null)
            {
                // The primary's current commit of that ref; a ref the primary does not have is wanted absent.
                var primary = await Task.Run(() => fetcher.PrimaryRefs(entry.PathWithNamespace), cancellationToken);
                wanted = primary.GetValueOrDefault(@ref);
            }

            var actual = mirrorRefs.GetValueOrDefault(@ref);
            var same = actual == wanted;
            return Results.Ok(answer with
            {
                UpToDate = same,
                WantedSha = wanted,
                MirrorSha = actual,
                DifferingRefs = same ? 0 : 1,
                Detail = same ? "" : $"{@ref} is at {Short(actual)} on this mirror, wanted {Short(wanted)}",
            });
        }

        var current = await Task.Run(() => fetcher.PrimaryRefs(entry.PathWithNamespace), cancellationToken);
        var differing = current.Keys.Union(mirrorRefs.Keys, StringComparer.Ordinal)
            .Count(name => current.GetValueOrDefault(name) != mirrorRefs.GetValueOrDefault(name));
        return Results.Ok(answer with
        {
            UpToDate = differing == 0,
            DifferingRefs = differing,
            Detail = differing == 0 ? "" : $"{differing} of the primary's {current.Count} refs differ on this mirror",
        });
    }

    /// <summary>Null when the caller may read project <paramref name="id"/>'s mirror state, else the answer to give.</summary>
    private static async Task<IResult?> RefusalAsync(
        long id, HttpContext http, ProjectRegistry registry, Serving.PrimaryGitAccess access, MirrorApiOptions api, CancellationToken cancellationToken)
    {
        var authorization = http.Request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.Ordinal))
        {
            var hash = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(authorization["Bearer ".Length..].Trim()));
            var expected = api.MirrorApiTokenSha256.Trim().ToLowerInvariant();
            return expected.Length == 64 && System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(
                    System.Text.Encoding.ASCII.GetBytes(Convert.ToHexStringLower(hash)), System.Text.Encoding.ASCII.GetBytes(expected))
                ? null
                : Results.Problem(title: "Bad token", detail: "the token is not this site's Secondary:MirrorApiTokenSha256", statusCode: StatusCodes.Status401Unauthorized);
        }

        if (!authorization.StartsWith("Basic ", StringComparison.Ordinal))
        {
            http.Response.Headers.WWWAuthenticate = "Basic realm=\"geo-secondary\"";
            return Results.Problem(title: "Credentials needed",
                detail: "give the credentials you clone the project with (HTTP Basic, e.g. gitlab-ci-token and $CI_JOB_TOKEN), or this site's mirror API token (Bearer)",
                statusCode: StatusCodes.Status401Unauthorized);
        }

        if (access.PrimaryBase.Length == 0)
        {
            return Results.Problem(title: "No primary to ask", detail: "this site has no Secondary:PrimaryCloneUrl to decide access with", statusCode: StatusCodes.Status503ServiceUnavailable);
        }

        var entry = await registry.FindAsync(id, RepositoryKind.Project, cancellationToken);
        if (entry is null || entry.Destroyed)
        {
            return Results.Problem(title: "Unknown project", detail: $"this site mirrors no project {id}", statusCode: StatusCodes.Status404NotFound);
        }

        var decision = await access.DecideAsync(authorization, new Serving.ServableMirrors.Named(entry.PathWithNamespace, RepositoryKind.Project), cancellationToken);
        if (decision.Yes)
        {
            return null;
        }

        if (decision.WwwAuthenticate is { } challenge)
        {
            http.Response.Headers.WWWAuthenticate = challenge;
        }

        return Results.Problem(title: "Access refused by the primary", detail: decision.Message,
            statusCode: decision.Outcome == Serving.AccessOutcome.Moved ? StatusCodes.Status403Forbidden : decision.Status);
    }

    private static string Short(string? sha) => sha is null ? "(none)" : sha[..Math.Min(12, sha.Length)];

    private static bool IsObjectId(string sha) => sha.Length is 40 or 64 && sha.All(c => c is >= '0' and <= '9' or >= 'a' and <= 'f');

    /// <summary>A full ref name (refs/…), printable, without the sequences git forbids in ref names.</summary>
    public static string? RefProblem(string? name) =>
        name is null ? null
        : !name.StartsWith("refs/", StringComparison.Ordinal) || name.Length > MaxRefLength
            || name.Any(c => c <= ' ' || c >= '\x7f' || c is '~' or '^' or ':' or '?' or '*' or '[' or '\\')
            || name.Contains("..", StringComparison.Ordinal) || name.Contains("//", StringComparison.Ordinal) || name.EndsWith('/') || name.EndsWith(".lock", StringComparison.Ordinal)
            ? $"'ref' must be a full ref name such as refs/heads/main (at most {MaxRefLength} printable characters, none of ~^:?*[\\ or '..')"
            : null;
}
