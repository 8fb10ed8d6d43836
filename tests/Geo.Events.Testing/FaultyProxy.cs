using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Geo.Events.Testing;

/// <summary>What the proxy does to one request.</summary>
public abstract record ProxyFault
{
    /// <summary>Accept the request and never answer: the peer hangs until it gives up.</summary>
    public sealed record Silence : ProxyFault;

    /// <summary>Forward the request, pass on the answer's headers and its first <paramref name="Bytes"/> bytes, then stall.</summary>
    public sealed record StallAfter(long Bytes) : ProxyFault;
}

/// <summary>
/// An HTTP reverse proxy on 127.0.0.1 in front of a real server, which does to chosen requests what a sick
/// network or a wedged server does: no answer at all, or an answer that stops halfway. Everything else passes
/// through unchanged.
/// </summary>
public sealed class FaultyProxy : IAsyncDisposable
{
    private static readonly HashSet<string> HopByHop = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Transfer-Encoding", "Upgrade", "Proxy-Connection", "TE", "Trailer", "Host",
    };

    private readonly HttpClient _upstream;
    private WebApplication _app = null!;
    private readonly ConcurrentQueue<string> _faulted = new();
    private readonly CancellationTokenSource _closing = new();

    private FaultyProxy(Uri upstream)
    {
        _upstream = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, AutomaticDecompression = DecompressionMethods.None })
        {
            BaseAddress = upstream,
            Timeout = Timeout.InfiniteTimeSpan,
        };
    }

    public Uri BaseUrl { get; private set; } = null!;

    /// <summary>Chooses the fault for a request (by its path), or null to pass it through. Change it at any time.</summary>
    public Func<PathString, ProxyFault?> Faults { get; set; } = _ => null;

    /// <summary>The paths of the requests a fault was applied to, in order.</summary>
    public IReadOnlyCollection<string> Faulted => _faulted;

    public static async Task<FaultyProxy> StartAsync(Uri upstream)
    {
        var proxy = new FaultyProxy(upstream);
        (proxy._app, proxy.BaseUrl) = await LoopbackServer.StartAsync(proxy.ForwardAsync);
        return proxy;
    }

    private async Task ForwardAsync(HttpContext context)
    {
        var fault = Faults(context.Request.Path);
        if (fault is not null)
        {
            _faulted.Enqueue(context.Request.Path.Value ?? "");
        }

        if (fault is ProxyFault.Silence)
        {
            await HoldAsync(context);
            return;
        }

        using var request = new HttpRequestMessage(new HttpMethod(context.Request.Method), context.Request.Path + context.Request.QueryString);
        if (context.Request.ContentLength > 0 || context.Request.Headers.TransferEncoding.Count > 0)
        {
            request.Content = new StreamContent(context.Request.Body);
        }

        foreach (var (name, values) in context.Request.Headers)
        {
            if (!HopByHop.Contains(name) && !request.Headers.TryAddWithoutValidation(name, values.ToArray()))
            {
                request.Content?.Headers.TryAddWithoutValidation(name, values.ToArray());
            }
        }

        using var response = await _upstream.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, context.RequestAborted);
        context.Response.StatusCode = (int)response.StatusCode;
        foreach (var (name, values) in response.Headers.Concat(response.Content.Headers))
        {
            if (!HopByHop.Contains(name))
            {
                context.Response.Headers[name] = values.ToArray();
            }
        }

        await using var body = await response.Content.ReadAsStreamAsync(context.RequestAborted);
        if (fault is ProxyFault.StallAfter(var bytes))
        {
            var buffer = new byte[bytes];
            await body.ReadExactlyAsync(buffer, context.RequestAborted);
            await context.Response.Body.WriteAsync(buffer, context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
            await HoldAsync(context);
            return;
        }

        await body.CopyToAsync(context.Response.Body, context.RequestAborted);
    }

    /// <summary>Holds the connection open, saying nothing, until the peer gives up or the proxy closes.</summary>
    private async Task HoldAsync(HttpContext context)
    {
        using var held = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _closing.Token);
        await Task.Delay(Timeout.Infinite, held.Token).ContinueWith(_ => { }, TaskScheduler.Default);
        context.Abort();
    }

    public async ValueTask DisposeAsync()
    {
        await _closing.CancelAsync();
        await _app.StopAsync();
        await _app.DisposeAsync();
        _upstream.Dispose();
        _closing.Dispose();
    }
}
