using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Geo.Events.Secondary.Serving;

/// <summary>
/// Runs <c>git http-backend</c> as a CGI program for one request on one mirror, as Apache or nginx+fcgiwrap would:
/// git itself speaks the protocol and builds the packs. The repository is given as a folder and a name in it, both
/// computed from the project id, never from the request's path; pushes are turned off (<c>http.receivepack=false</c>).
/// </summary>
public static class GitHttpBackend
{
    /// <summary>Streams git's answer to the response; returns the bytes of body sent.</summary>
    public static async Task<long> RunAsync(HttpContext context, string dataPath, string gitPath, CancellationToken cancellationToken)
    {
        var request = context.Request;
        var start = new ProcessStartInfo("git", ["-c", "http.receivepack=false", "-c", "http.uploadpack=true", "http-backend"])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["GIT_PROJECT_ROOT"] = Path.GetDirectoryName(dataPath)!;
        start.Environment["GIT_HTTP_EXPORT_ALL"] = "1";
        start.Environment["GATEWAY_INTERFACE"] = "CGI/1.1";
        start.Environment["REQUEST_METHOD"] = request.Method;
        start.Environment["PATH_INFO"] = "/" + Path.GetFileName(dataPath) + gitPath;
        start.Environment["QUERY_STRING"] = request.QueryString.HasValue ? request.QueryString.Value![1..] : "";
        start.Environment["CONTENT_TYPE"] = request.ContentType ?? "";
        start.Environment["REMOTE_ADDR"] = context.Connection.RemoteIpAddress?.ToString() ?? "";
        if (request.ContentLength is { } length)
        {
            start.Environment["CONTENT_LENGTH"] = length.ToString(CultureInfo.InvariantCulture);
        }

        foreach (var (header, variable) in new[] { ("Content-Encoding", "HTTP_CONTENT_ENCODING"), ("Git-Protocol", "GIT_PROTOCOL") })
        {
            if (request.Headers.TryGetValue(header, out var value))
            {
                start.Environment[variable] = value.ToString();
            }
        }

        using var git = Process.Start(start) ?? throw new InvalidOperationException("could not start git http-backend");
        var errors = git.StandardError.ReadToEndAsync(cancellationToken);
        // The request body is fed while the answer is read: a large want/have list must not wait on a full pipe.
        var feed = Task.Run(async () =>
        {
            try
            {
                await request.Body.CopyToAsync(git.StandardInput.BaseStream, cancellationToken);
            }
            finally
            {
                git.StandardInput.Close();
            }
        }, cancellationToken);

        var output = git.StandardOutput.BaseStream;
        var response = context.Response;
        while (ReadHeaderLine(output) is { Length: > 0 } line)
        {
            var colon = line.IndexOf(':');
            if (colon <= 0)
            {
                continue;
            }

            var (name, value) = (line[..colon].Trim(), line[(colon + 1)..].Trim());
            if (name.Equals("Status", StringComparison.OrdinalIgnoreCase))
            {
                response.StatusCode = int.Parse(value.Split(' ')[0], CultureInfo.InvariantCulture);
            }
            else
            {
                response.Headers.Append(name, value);
            }
        }

        var sent = 0L;
        var buffer = new byte[1 << 16];
        int read;
        while ((read = await output.ReadAsync(buffer, cancellationToken)) > 0)
        {
            await response.Body.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            sent += read;
        }

        await feed;
        await git.WaitForExitAsync(cancellationToken);
        if (git.ExitCode != 0 && !response.HasStarted)
        {
            response.StatusCode = StatusCodes.Status500InternalServerError;
            await response.WriteAsync("git http-backend failed: " + (await errors).Trim(), cancellationToken);
        }

        return sent;
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

        return Encoding.ASCII.GetString([.. line]);
    }
}
