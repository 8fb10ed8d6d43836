using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Geo.Events.Testing;

/// <summary>
/// A stand-in for the two GitLab endpoints a serving site asks, since GitLab itself cannot run here. Documented as
/// a stand-in, following GitLab's documented behaviour, not its code:
/// <list type="bullet">
/// <item>its git endpoint, <c>/&lt;path&gt;.git/info/refs</c> and <c>/git-upload-pack</c>, served by <c>git http-backend</c> on
/// the primary's storage behind GitLab's answers: no or unknown HTTP Basic credentials → 401 with
/// <c>WWW-Authenticate: Basic realm="GitLab"</c> (a public project needs none); known credentials without the right to
/// read the project → 404; else git answers;</item>
/// <item>its internal API, <c>POST /api/v4/internal/allowed</c> (doc/development/internal_api: key_id, project, action,
/// protocol, changes), authenticated as gitlab-shell does: a JWT (HS256, iss <c>gitlab-shell</c>, one minute) signed with
/// the shared secret in the <c>Gitlab-Shell-Api-Request</c> header; a bad or missing JWT → 401; 200
/// <c>{"status":true,…}</c> for a key that may read the project, else 404 <c>{"status":false,"message":…}</c>.</item>
/// </list>
/// </summary>
public sealed class GitLabStandIn : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, HashSet<string>> _credentials = new();
    private readonly ConcurrentDictionary<long, HashSet<string>> _keys = new();
    private readonly ConcurrentDictionary<string, bool> _public = new();
    private int _infoRefs;
    private int _packs;
    private int _allowedCalls;

    private GitLabStandIn(WebApplication app, Uri baseUrl, string storageRoot, string shellSecret)
    {
        _app = app;
        BaseUrl = baseUrl;
        StorageRoot = storageRoot;
        ShellSecret = shellSecret;
    }

    public Uri BaseUrl { get; }
    public string StorageRoot { get; }
    public string ShellSecret { get; }

    /// <summary>The base URL without its trailing '/', as Secondary:PrimaryCloneUrl takes it.</summary>
    public string Url => BaseUrl.ToString().TrimEnd('/');

    /// <summary>info/refs requests answered (any outcome): each is one access decision asked of the primary.</summary>
    public int InfoRefsAsked => _infoRefs;

    /// <summary>git-upload-pack POSTs (packs) answered with git's data.</summary>
    public int PacksServed => _packs;

    public int AllowedCalls => _allowedCalls;

    /// <summary>While true, pack requests are refused (503) while info/refs still answers: a clone that works was served elsewhere.</summary>
    public bool RefusePacks { get; set; }

    /// <summary>While true, every connection is dropped: the primary is unreachable.</summary>
    public bool Down { get; set; }

    public static async Task<GitLabStandIn> StartAsync(string storageRoot)
    {
        GitLabStandIn? server = null;
        var (app, baseUrl) = await LoopbackServer.StartAsync(context => server!.HandleAsync(context));
        server = new GitLabStandIn(app, baseUrl, storageRoot, Convert.ToBase64String(RandomNumberGenerator.GetBytes(48)));
        return server;
    }

    /// <summary>HTTP Basic <paramref name="user"/>:<paramref name="password"/> may read these projects (e.g. a token, or gitlab-ci-token and a job token).</summary>
    public void Grant(string user, string password, params string[] projects) =>
        _credentials.AddOrUpdate($"{user}:{password}", _ => [.. projects], (_, set) => { lock (set) { set.UnionWith(projects); } return set; });

    public void Revoke(string user, string password, string project)
    {
        if (_credentials.TryGetValue($"{user}:{password}", out var set))
        {
            lock (set)
            {
                set.Remove(project);
            }
        }
    }

    public void GrantKey(long keyId, params string[] projects) => _keys[keyId] = [.. projects];

    public void MakePublic(string project) => _public[project] = true;

    private async Task HandleAsync(HttpContext context)
    {
        if (Down)
        {
            context.Abort();
            return;
        }

        var path = context.Request.Path.Value ?? "";
        if (path == "/api/v4/internal/allowed" && HttpMethods.IsPost(context.Request.Method))
        {
            await AllowedAsync(context);
            return;
        }

        var suffix = new[] { "/info/refs", "/git-upload-pack", "/git-receive-pack" }.FirstOrDefault(s => path.EndsWith(s, StringComparison.Ordinal));
        if (suffix is null || !path[..^suffix.Length].EndsWith(".git", StringComparison.Ordinal))
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        // A wiki's or a design repository's rights are its project's (or its group's); a snippet's are its own ("snippets/5").
        var project = path[1..^(suffix.Length + ".git".Length)];
        foreach (var owned in new[] { ".wiki", ".design" })
        {
            if (project.EndsWith(owned, StringComparison.Ordinal))
            {
                project = project[..^owned.Length];
            }
        }

        if (suffix == "/info/refs")
        {
            Interlocked.Increment(ref _infoRefs);
        }

        var credentials = Basic(context.Request.Headers.Authorization.ToString());
        if (credentials is null && !_public.ContainsKey(project) || credentials is not null && !_credentials.ContainsKey(credentials))
        {
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            context.Response.Headers.WWWAuthenticate = "Basic realm=\"GitLab\"";
            await context.Response.WriteAsync("HTTP Basic: Access denied\n");
            return;
        }

        if (credentials is not null && !_public.ContainsKey(project) && !Reads(_credentials[credentials], project))
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            await context.Response.WriteAsync("The project you were looking for could not be found or you don't have permission to view it.\n");
            return;
        }

        if (suffix != "/info/refs" && RefusePacks)
        {
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            await context.Response.WriteAsync("the stand-in primary refuses packs in this test\n");
            return;
        }

        if (suffix == "/git-upload-pack")
        {
            Interlocked.Increment(ref _packs);
        }

        await GitHttpServer.RunBackendAsync(context, StorageRoot);
    }

    private static bool Reads(HashSet<string> set, string project)
    {
        lock (set)
        {
            return set.Contains(project);
        }
    }

    private static string? Basic(string authorization) =>
        authorization.StartsWith("Basic ", StringComparison.Ordinal)
            ? Encoding.UTF8.GetString(Convert.FromBase64String(authorization["Basic ".Length..]))
            : null;

    private async Task AllowedAsync(HttpContext context)
    {
        Interlocked.Increment(ref _allowedCalls);
        if (!ValidJwt(context.Request.Headers["Gitlab-Shell-Api-Request"].ToString()))
        {
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            await context.Response.WriteAsJsonAsync(new JsonObject { ["message"] = "401 Unauthorized" });
            return;
        }

        var body = await JsonNode.ParseAsync(context.Request.Body);
        var keyId = long.TryParse(body?["key_id"]?.ToString(), out var id) ? id : -1;
        // gitlab-shell passes the path as the client gave it: "group/project.git", maybe with a leading '/'.
        var project = (body?["project"]?.ToString() ?? "").TrimStart('/');
        project = project.EndsWith(".git", StringComparison.Ordinal) ? project[..^".git".Length] : project;
        var action = body?["action"]?.ToString();
        var protocol = body?["protocol"]?.ToString();
        if (action != "git-upload-pack" || protocol != "ssh" || !_keys.TryGetValue(keyId, out var projects) || !projects.Contains(project))
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            await context.Response.WriteAsJsonAsync(new JsonObject
            {
                ["status"] = false,
                ["message"] = "The project you were looking for could not be found or you don't have permission to view it.",
            });
            return;
        }

        await context.Response.WriteAsJsonAsync(new JsonObject
        {
            ["status"] = true,
            ["gl_repository"] = "project-" + project,
            ["gl_id"] = $"key-{keyId}",
            ["gl_project_path"] = project,
        });
    }

    private bool ValidJwt(string jwt)
    {
        var parts = jwt.Split('.');
        if (parts.Length != 3)
        {
            return false;
        }

        using var hmac = new HMACSHA256(Encoding.UTF8.GetBytes(ShellSecret));
        var expected = Base64Url(hmac.ComputeHash(Encoding.ASCII.GetBytes(parts[0] + "." + parts[1])));
        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(parts[2])))
        {
            return false;
        }

        using var header = JsonDocument.Parse(FromBase64Url(parts[0]));
        using var claims = JsonDocument.Parse(FromBase64Url(parts[1]));
        return header.RootElement.GetProperty("alg").GetString() == "HS256"
            && claims.RootElement.GetProperty("iss").GetString() == "gitlab-shell"
            && claims.RootElement.GetProperty("exp").GetInt64() > DateTimeOffset.UtcNow.ToUnixTimeSeconds();
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static byte[] FromBase64Url(string text)
    {
        var padded = text.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(padded + new string('=', (4 - padded.Length % 4) % 4));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
