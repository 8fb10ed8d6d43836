using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Geo.Events.Testing;

/// <summary>
/// Debian's <c>chromium</c>, headless, driven over the Chrome DevTools Protocol (one page): open a URL with extra
/// request headers (an HTTP Basic login), read what the page shows now (it may have reloaded itself since), and take
/// a PNG screenshot. No test framework in between: a WebSocket and JSON.
/// </summary>
public sealed class HeadlessChromium : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _profile;
    private readonly ClientWebSocket _socket = new();
    private int _nextId;

    private HeadlessChromium(Process process, string profile)
    {
        _process = process;
        _profile = profile;
    }

    /// <summary>Where Debian installs it; null when it is not installed.</summary>
    public static string? Executable =>
        new[] { "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome" }.FirstOrDefault(File.Exists);

    public static async Task<HeadlessChromium> StartAsync(string workDirectory)
    {
        var executable = Executable ?? throw new InvalidOperationException("chromium is not installed (apt-get install chromium; infra/local/up does it)");
        var profile = Path.Combine(workDirectory, "chromium-profile");
        Directory.CreateDirectory(profile);
        var info = new ProcessStartInfo(executable) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in new[]
        {
            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--hide-scrollbars",
            "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", $"--user-data-dir={profile}", "--window-size=1400,900", "about:blank",
        })
        {
            info.ArgumentList.Add(arg);
        }

        var process = Process.Start(info)!;
        var chromium = new HeadlessChromium(process, profile);
        try
        {
            // Chromium announces "DevTools listening on ws://127.0.0.1:<port>/devtools/browser/<id>" on stderr.
            string? line;
            Uri? browser = null;
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            while (browser is null && (line = await process.StandardError.ReadLineAsync(deadline.Token)) is not null)
            {
                if (line.Contains("DevTools listening on ", StringComparison.Ordinal))
                {
                    browser = new Uri(line[(line.IndexOf("ws://", StringComparison.Ordinal))..].Trim());
                }
            }

            _ = process.StandardError.ReadToEndAsync(); // keep draining, so chromium never blocks on a full pipe
            _ = process.StandardOutput.ReadToEndAsync();
            if (browser is null)
            {
                throw new InvalidOperationException($"chromium exited ({(process.HasExited ? process.ExitCode : -1)}) without opening its DevTools port");
            }

            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{browser.Port}/") };
            var targets = JsonNode.Parse(await http.GetStringAsync("json/list"))!.AsArray();
            var page = targets.FirstOrDefault(t => (string?)t!["type"] == "page")
                ?? throw new InvalidOperationException("chromium has no page open");
            await chromium._socket.ConnectAsync(new Uri((string)page["webSocketDebuggerUrl"]!), deadline.Token);
            await chromium.SendAsync("Page.enable");
            await chromium.SendAsync("Network.enable");
            return chromium;
        }
        catch
        {
            await chromium.DisposeAsync();
            throw;
        }
    }

    /// <summary>Sends these headers with every request of this page from now on, reloads included.</summary>
    public Task SetHeadersAsync(IReadOnlyDictionary<string, string> headers) =>
        SendAsync("Network.setExtraHTTPHeaders", new JsonObject { ["headers"] = new JsonObject(headers.Select(h => KeyValuePair.Create(h.Key, (JsonNode?)JsonValue.Create(h.Value)))) });

    public Task NavigateAsync(Uri url) => SendAsync("Page.navigate", new JsonObject { ["url"] = url.ToString() });

    /// <summary>The page's text as a user sees it (document.body.innerText), whatever the page has loaded by now.</summary>
    public async Task<string> TextAsync()
    {
        var result = await SendAsync("Runtime.evaluate", new JsonObject { ["expression"] = "document.body ? document.body.innerText : ''", ["returnByValue"] = true });
        return (string?)result["result"]?["value"] ?? "";
    }

    /// <summary>Evaluates a JavaScript expression in the page as it is now; its value as text.</summary>
    public async Task<string> EvaluateAsync(string expression)
    {
        var result = await SendAsync("Runtime.evaluate", new JsonObject { ["expression"] = expression, ["returnByValue"] = true });
        return result["result"]?["value"]?.ToString() ?? "";
    }

    public async Task ScreenshotAsync(string path)
    {
        var result = await SendAsync("Page.captureScreenshot", new JsonObject { ["format"] = "png", ["captureBeyondViewport"] = true });
        await File.WriteAllBytesAsync(path, Convert.FromBase64String((string)result["data"]!));
    }

    private async Task<JsonNode> SendAsync(string method, JsonObject? parameters = null)
    {
        var id = Interlocked.Increment(ref _nextId);
        var message = new JsonObject { ["id"] = id, ["method"] = method, ["params"] = parameters ?? new JsonObject() };
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await _socket.SendAsync(Encoding.UTF8.GetBytes(message.ToJsonString()), WebSocketMessageType.Text, true, deadline.Token);
        var buffer = new byte[64 * 1024];
        while (true)
        {
            using var received = new MemoryStream();
            WebSocketReceiveResult part;
            do
            {
                part = await _socket.ReceiveAsync(buffer, deadline.Token);
                if (part.MessageType == WebSocketMessageType.Close)
                {
                    throw new InvalidOperationException("chromium closed the DevTools connection");
                }

                received.Write(buffer, 0, part.Count);
            }
            while (!part.EndOfMessage);

            // Events (no id) and answers to nothing we wait for are skipped.
            var answer = JsonNode.Parse(received.ToArray())!;
            if ((int?)answer["id"] != id)
            {
                continue;
            }

            if (answer["error"] is { } error)
            {
                throw new InvalidOperationException($"chromium refused {method}: {error.ToJsonString()}");
            }

            return answer["result"] ?? new JsonObject();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _socket.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        try
        {
            Directory.Delete(_profile, recursive: true);
        }
        catch (IOException)
        {
            // chromium's helpers may still hold files for a moment: the test's root goes anyway.
        }
    }
}
