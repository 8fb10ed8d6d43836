using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Geo.Events.Testing;

/// <summary>A real geo-primary or geo-secondary process, started from its build output with GEO_* settings.</summary>
public sealed class GeoProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;

    private GeoProcess(Process process, StreamWriter log, string logPath)
    {
        _process = process;
        _log = log;
        LogPath = logPath;
    }

    public string LogPath { get; }

    public bool HasExited => _process.HasExited;

    /// <summary>The program it runs (the .dll given to dotnet), as its command line says.</summary>
    public string Program => File.ReadAllText($"/proc/{_process.Id}/cmdline").Split('\0')[1];

    /// <summary>Peak resident memory so far (VmHWM from /proc), in bytes.</summary>
    public long PeakResidentBytes()
    {
        var line = File.ReadLines($"/proc/{_process.Id}/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
    }

    /// <summary>CPU time the process has used so far (user and system).</summary>
    public TimeSpan CpuTime()
    {
        _process.Refresh();
        return _process.TotalProcessorTime;
    }

    /// <summary>
    /// When set (for the calls of one test), programs start from this folder of <c>make publish</c> output
    /// (<c>&lt;folder&gt;/geo-primary/geo-primary.dll</c>, …) instead of the build's bin folders.
    /// </summary>
    public static readonly AsyncLocal<string?> PublishedPrograms = new();

    public static GeoProcess Start(string project, string dll, IReadOnlyDictionary<string, string> settings, string logPath, params string[] args) =>
        Start(project, dll, settings, logPath, environment: null, args);

    /// <summary>Starts the process with <paramref name="environment"/> set as it is (not GEO_-prefixed), e.g. GIT_SSH_COMMAND.</summary>
    public static GeoProcess Start(string project, string dll, IReadOnlyDictionary<string, string> settings, string logPath, IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var path = PublishedPrograms.Value is { } published
            ? Path.Combine(published, Path.GetFileNameWithoutExtension(dll), dll)
            : Path.Combine(TestServers.RepoRoot, "src", project, "bin", TestServers.Configuration, "net10.0", dll);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{path} is missing: build the solution first (make build)", path);
        }

        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetTempPath(),
        };
        info.ArgumentList.Add(path);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var (key, value) in settings)
        {
            info.Environment["GEO_" + key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        var log = new StreamWriter(logPath, append: true) { AutoFlush = true };
        var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (log) { log.WriteLine(e.Data); } } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (log) { log.WriteLine(e.Data); } } };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new GeoProcess(process, log, logPath);
    }

    private static readonly HashSet<int> HandedOut = [];
    private static readonly Lock PortGate = new();

    /// <summary>
    /// A loopback port nothing listens on, never handed out before by this process: the kernel may offer a port it
    /// offered a moment ago, and two secondaries given the same one before either bound it fail to start.
    /// </summary>
    public static int FreePort()
    {
        lock (PortGate)
        {
            while (true)
            {
                using var listener = new TcpListener(IPAddress.Loopback, 0);
                listener.Start();
                var port = ((IPEndPoint)listener.LocalEndpoint).Port;
                if (HandedOut.Add(port))
                {
                    return port;
                }
            }
        }
    }

    /// <summary>SIGKILL: the process gets no chance to tidy up, as in a crash.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
    }

    /// <summary>
    /// SIGSTOP: the process stops where it is, its connections left open (the broker keeps its unacknowledged deliveries
    /// with it), until <see cref="Resume"/>; its code stays as compiled, unlike a restart's.
    /// </summary>
    public void Pause() => Signal(SigStop);

    /// <summary>SIGCONT: a <see cref="Pause"/>d process runs on (a running one is left as it is).</summary>
    public void Resume() => Signal(SigCont);

    // Linux's numbers, on x86-64 and arm64 alike.
    private const int SigStop = 19;
    private const int SigCont = 18;

    private void Signal(int signal)
    {
        if (Kill(_process.Id, signal) != 0)
        {
            throw new InvalidOperationException($"kill({_process.Id}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    public string Log()
    {
        lock (_log)
        {
            _log.Flush();
        }

        using var stream = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        return new StreamReader(stream).ReadToEnd();
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process.Dispose();
        lock (_log)
        {
            _log.Dispose();
        }
    }
}
