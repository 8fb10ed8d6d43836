using System.Diagnostics;
using System.Net;
using Geo.Events.Testing;
using Microsoft.AspNetCore.Http;

namespace Geo.Events.Benchmarks.Scenarios;

/// <summary>
/// 8. Cloning at a site: a clone of a large repository from the site's mirror (access asked of the primary across a
/// delayed link, or cached) against the same clone from the primary across that link. The link is a proxy that
/// adds <see cref="OneWayDelay"/> each way to every request and passes the body at <see cref="BytesPerSecond"/>.
/// </summary>
public static class Serving
{
    public static readonly TimeSpan OneWayDelay = TimeSpan.FromMilliseconds(40);
    public const long BytesPerSecond = 12_500_000; // 100 Mbit/s

    /// <summary>A repository with <paramref name="megabytes"/> MB of incompressible files on main, pushed and announced.</summary>
    public static async Task<(PrimaryRepository Repository, string Sha)> CreateLargeRepositoryAsync(GeoSite site, long projectId, int megabytes)
    {
        var repo = await site.CreateRepositoryAsync("bench/large");
        var random = new Random(42);
        for (var i = 0; i < megabytes; i++)
        {
            var bytes = new byte[1 << 20];
            random.NextBytes(bytes);
            await File.WriteAllBytesAsync(Path.Combine(repo.WorkPath, $"blob{i:000}.bin"), bytes);
        }

        await repo.GitAsync("add", "-A");
        var (sha, _) = await site.PushWithHookAsync(repo, projectId, "large");
        // Packed, as GitLab's housekeeping keeps a repository (and as the mirror is): git sends a pack as it is, so no
        // side pays for compressing loose objects on every clone.
        await Shell.RunAsync("git", repo.BarePath, "repack", "-adq");
        return (repo, sha);
    }

    /// <summary>Seconds for one <c>git clone --bare</c> of <paramref name="url"/>.</summary>
    public static async Task<double> CloneSecondsAsync(string scratch, string url)
    {
        var target = Path.Combine(scratch, Guid.NewGuid().ToString("N")[..8]);
        var clock = Stopwatch.StartNew();
        await Shell.RunAsync("git", scratch, "-c", "credential.helper=", "clone", "--bare", "--quiet", url, target);
        var seconds = clock.Elapsed.TotalSeconds;
        Directory.Delete(target, recursive: true);
        return seconds;
    }

    /// <summary>A reverse proxy that delays every request and answer, and limits the answer's rate: a WAN in front of <paramref name="upstream"/>.</summary>
    public static async Task<(IAsyncDisposable Proxy, string Url)> StartWanAsync(Uri upstream)
    {
        var http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false }) { Timeout = Timeout.InfiniteTimeSpan };
        var (app, baseUrl) = await LoopbackServer.StartAsync(async context =>
        {
            await Task.Delay(OneWayDelay);
            var request = context.Request;
            using var forward = new HttpRequestMessage(new HttpMethod(request.Method), new Uri(upstream, request.Path + request.QueryString));
            var body = new MemoryStream();
            await request.Body.CopyToAsync(body);
            if (body.Length > 0 || HttpMethods.IsPost(request.Method))
            {
                forward.Content = new ByteArrayContent(body.ToArray());
            }

            foreach (var (name, values) in request.Headers)
            {
                if (name is "Host" or "Content-Length")
                {
                    continue;
                }

                if (!forward.Headers.TryAddWithoutValidation(name, values.ToArray()))
                {
                    forward.Content?.Headers.TryAddWithoutValidation(name, values.ToArray());
                }
            }

            using var answer = await http.SendAsync(forward, HttpCompletionOption.ResponseHeadersRead);
            await Task.Delay(OneWayDelay);
            context.Response.StatusCode = (int)answer.StatusCode;
            foreach (var (name, values) in answer.Headers.Concat(answer.Content.Headers))
            {
                if (name is not ("Transfer-Encoding" or "Content-Length"))
                {
                    context.Response.Headers[name] = values.ToArray();
                }
            }

            var buffer = new byte[64 * 1024];
            await using var stream = await answer.Content.ReadAsStreamAsync();
            var clock = Stopwatch.StartNew();
            long sent = 0;
            int read;
            while ((read = await stream.ReadAsync(buffer)) > 0)
            {
                await context.Response.Body.WriteAsync(buffer.AsMemory(0, read));
                sent += read;
                var due = TimeSpan.FromSeconds((double)sent / BytesPerSecond) - clock.Elapsed;
                if (due > TimeSpan.Zero)
                {
                    await Task.Delay(due);
                }
            }
        });
        return (new Disposer(app, http), baseUrl.ToString().TrimEnd('/'));
    }

    private sealed class Disposer(Microsoft.AspNetCore.Builder.WebApplication app, HttpClient http) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await app.StopAsync();
            await app.DisposeAsync();
            http.Dispose();
        }
    }
}
