using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Geo.Events.Testing;

/// <summary>
/// The primary's repositories over git's smart HTTP protocol, served by git itself: each request runs
/// <c>git http-backend</c> as a CGI program (as Apache or nginx+fcgiwrap would) under Kestrel on 127.0.0.1.
/// Given credentials, it demands them as GitLab does: a request without HTTP Basic authorization, or with other
/// credentials, gets 401 with <c>WWW-Authenticate: Basic</c> and never reaches git.
/// </summary>
public sealed class GitHttpServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private GitHttpServer(WebApplication app, Uri baseUrl)
    {
        _app = app;
        BaseUrl = baseUrl;
    }

    public Uri BaseUrl { get; }

    /// <summary>Requests answered 401: no credentials, or not the demanded ones.</summary>
    public int Refused => _refused;

    /// <summary>Requests that carried the demanded credentials and were served by git.</summary>
    public int Authorized => _authorized;

    private int _refused;
    private int _authorized;

    public static async Task<GitHttpServer> StartAsync(string projectRoot, System.Net.NetworkCredential? demanded = null)
    {
        GitHttpServer? server = null;
        var (app, baseUrl) = await LoopbackServer.StartAsync(context => server!.ServeAsync(context, projectRoot, demanded));
        server = new GitHttpServer(app, baseUrl);
        return server;
    }

    private async Task ServeAsync(HttpContext context, string projectRoot, System.Net.NetworkCredential? demanded)
    {
        var request = context.Request;
        if (demanded is not null)
        {
            var expected = "Basic " + Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{demanded.UserName}:{demanded.Password}"));
            if (request.Headers.Authorization.ToString() != expected)
            {
                Interlocked.Increment(ref _refused);
                context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                context.Response.Headers.WWWAuthenticate = "Basic realm=\"GitLab\"";
                return;
            }

            Interlocked.Increment(ref _authorized);
        }

        await RunBackendAsync(context, projectRoot);
    }

    /// <summary>Answers one request with <c>git http-backend</c> (CGI) on the repositories under <paramref name="projectRoot"/>.</summary>
    public static async Task RunBackendAsync(HttpContext context, string projectRoot)
    {
        var request = context.Request;
        var start = new ProcessStartInfo("git", ["http-backend"])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["GIT_PROJECT_ROOT"] = projectRoot;
        start.Environment["GIT_HTTP_EXPORT_ALL"] = "1";
        start.Environment["GATEWAY_INTERFACE"] = "CGI/1.1";
        start.Environment["REQUEST_METHOD"] = request.Method;
        start.Environment["PATH_INFO"] = Uri.UnescapeDataString(request.Path.Value ?? "/");
        start.Environment["QUERY_STRING"] = request.QueryString.HasValue ? request.QueryString.Value![1..] : "";
        start.Environment["CONTENT_TYPE"] = request.ContentType ?? "";
        start.Environment["REMOTE_ADDR"] = "127.0.0.1";
        if (request.ContentLength is { } length)
        {
            start.Environment["CONTENT_LENGTH"] = length.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        foreach (var (header, variable) in new[] { ("Content-Encoding", "HTTP_CONTENT_ENCODING"), ("Git-Protocol", "GIT_PROTOCOL") })
        {
            if (request.Headers.TryGetValue(header, out var value))
            {
                start.Environment[variable] = value.ToString();
            }
        }

        using var git = Process.Start(start) ?? throw new InvalidOperationException("could not start git http-backend");
        var errors = git.StandardError.ReadToEndAsync();
        await request.Body.CopyToAsync(git.StandardInput.BaseStream);
        git.StandardInput.Close();

        // CGI answer: header lines ("Status: 404 Not Found", "Content-Type: …"), a blank line, then the body.
        var output = git.StandardOutput.BaseStream;
        var response = context.Response;
        while (ReadHeaderLine(output) is { Length: > 0 } line)
        {
            var colon = line.IndexOf(':');
            var (name, value) = (line[..colon].Trim(), line[(colon + 1)..].Trim());
            if (name.Equals("Status", StringComparison.OrdinalIgnoreCase))
            {
                response.StatusCode = int.Parse(value.Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
            }
            else
            {
                response.Headers.Append(name, value);
            }
        }

        await output.CopyToAsync(response.Body);
        await git.WaitForExitAsync();
        if (git.ExitCode != 0 && !response.HasStarted)
        {
            response.StatusCode = StatusCodes.Status500InternalServerError;
            await response.WriteAsync(await errors);
        }
    }

    private static string ReadHeaderLine(Stream stream)
    {
        var line = new List<byte>();
        int b;
        while ((b = stream.ReadByte()) >= 0 && b != '\n')
        {
            if (b != '\r')
            {
                line.Add((byte)b);
            }
        }

        return System.Text.Encoding.ASCII.GetString(line.ToArray());
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
