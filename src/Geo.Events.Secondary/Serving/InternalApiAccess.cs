using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Geo.Events.Secondary.Serving;

/// <summary>
/// SSH's access decisions, taken by the primary as gitlab-shell has them taken: <c>POST /api/v4/internal/allowed</c>
/// with <c>key_id</c>, <c>project</c>, <c>action</c> (<c>git-upload-pack</c>), <c>protocol</c> (<c>ssh</c>) and
/// <c>changes</c> (<c>_any</c>), authenticated by a JWT signed (HS256) with GitLab's shared secret
/// (<c>.gitlab_shell_secret</c>), issuer <c>gitlab-shell</c>, valid one minute, in the <c>Gitlab-Shell-Api-Request</c>
/// header (GitLab's doc/development/internal_api). GitLab answers 200 with <c>"status": true</c> when the key may run
/// the command on the project, and an error status with <c>"status": false</c> and a <c>message</c> for the user otherwise.
/// </summary>
public sealed class InternalApiAccess(HttpClient http, AccessCache cache, string primaryBase, string secret, TimeSpan ttl)
{
    public const string Protocol = "ssh";

    public async Task<AccessDecision> DecideAsync(long keyId, ServableMirrors.Named repository, CancellationToken cancellationToken)
    {
        var key = AccessCache.Key(Protocol, $"key-{keyId}", "git-upload-pack", repository.GitName);
        AccessDecision decision;
        if (await cache.HoldsAsync(key, cancellationToken))
        {
            decision = new AccessDecision(AccessOutcome.Cached, 200, "");
        }
        else
        {
            decision = await AskAsync(keyId, repository, cancellationToken);
            if (decision.Outcome == AccessOutcome.Allowed)
            {
                await cache.RememberAsync(key, ttl, cancellationToken);
            }
        }

        // Counted by the caller: git-shell is a short-lived process, its figures go through serve_outcomes (ServeOutcomes).
        return decision;
    }

    private async Task<AccessDecision> AskAsync(long keyId, ServableMirrors.Named repository, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"{primaryBase}/api/v4/internal/allowed")
        {
            Content = JsonContent.Create(new JsonObject
            {
                ["action"] = "git-upload-pack",
                ["key_id"] = keyId.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["project"] = repository.GitName,
                ["protocol"] = Protocol,
                ["changes"] = "_any",
            }),
        };
        request.Headers.TryAddWithoutValidation("Gitlab-Shell-Api-Request", Jwt(secret, DateTimeOffset.UtcNow));
        try
        {
            using var response = await http.SendAsync(request, cancellationToken);
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            JsonNode? json = null;
            try
            {
                json = JsonNode.Parse(body);
            }
            catch (JsonException)
            {
                // Not JSON (a proxy's error page): judged by the status alone.
            }

            var message = json?["message"]?.ToString();
            if (response.StatusCode == HttpStatusCode.OK && json?["status"]?.GetValueKind() == JsonValueKind.True)
            {
                return new AccessDecision(AccessOutcome.Allowed, 200, "");
            }

            if (response.StatusCode >= HttpStatusCode.InternalServerError)
            {
                return Unreachable(repository, $"it answered {(int)response.StatusCode}");
            }

            if (response.StatusCode == HttpStatusCode.Unauthorized && json?["status"] is null)
            {
                // The JWT itself was refused: this site's copy of .gitlab_shell_secret is not the primary's.
                return new AccessDecision(AccessOutcome.Denied, 401,
                    $"The primary refused this site's shared secret (Secondary:GitLabShellSecretFile); clone from {primaryBase}/{repository.GitName}");
            }

            return new AccessDecision(AccessOutcome.Denied, (int)response.StatusCode,
                message ?? $"{primaryBase} did not allow reading {repository.GitName} with this key ({(int)response.StatusCode})");
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return Unreachable(repository, e is TaskCanceledException ? "it did not answer in time" : e.Message);
        }
    }

    private AccessDecision Unreachable(ServableMirrors.Named repository, string why) => new(AccessOutcome.Unreachable, 503,
        $"This site cannot reach the primary to check your access ({why}), so it serves nothing it has not recently checked. Clone from {primaryBase}/{repository.GitName} or retry later.");

    /// <summary>gitlab-shell's JWT: HS256 over the shared secret (the file's content, trimmed), issuer gitlab-shell, one minute.</summary>
    public static string Jwt(string secret, DateTimeOffset now)
    {
        static string Encode(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var header = Encode(Encoding.UTF8.GetBytes("""{"alg":"HS256","typ":"JWT"}"""));
        var issued = now.ToUnixTimeSeconds();
        var claims = Encode(Encoding.UTF8.GetBytes(new JsonObject { ["iss"] = "gitlab-shell", ["iat"] = issued, ["exp"] = issued + 60 }.ToJsonString()));
        var signature = Encode(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret.Trim()), Encoding.ASCII.GetBytes($"{header}.{claims}")));
        return $"{header}.{claims}.{signature}";
    }
}
