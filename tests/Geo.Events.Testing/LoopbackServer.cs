using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Geo.Events.Testing;

/// <summary>A Kestrel server on a free port of 127.0.0.1 that hands every request to one delegate.</summary>
public static class LoopbackServer
{
    public static async Task<(WebApplication App, Uri BaseUrl)> StartAsync(RequestDelegate handle)
    {
        var port = GeoProcess.FreePort();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port));
        var app = builder.Build();
        app.Run(handle);
        await app.StartAsync();
        return (app, new Uri($"http://127.0.0.1:{port}"));
    }
}
