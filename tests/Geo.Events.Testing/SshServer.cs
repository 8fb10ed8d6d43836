using System.Diagnostics;
using System.Net.Sockets;

namespace Geo.Events.Testing;

/// <summary>
/// A real OpenSSH sshd on 127.0.0.1 at a free port, with its own host key and config, and a stand-in for
/// gitlab-shell that prints the arguments of the forced command. Its folder lives under /opt because sshd
/// refuses an AuthorizedKeysCommand whose path passes through a world-writable folder such as /tmp.
/// </summary>
public sealed class SshServer : IAsyncDisposable
{
    private Process? _process;

    private SshServer(string folder, int port)
    {
        Folder = folder;
        Port = port;
    }

    public string Folder { get; }
    public int Port { get; }
    public string AuthorizedKeysFile => Path.Combine(Folder, "authorized_keys");
    public string GitLabShell => Path.Combine(Folder, "gitlab-shell");
    public string LogPath => Path.Combine(Folder, "sshd.log");

    /// <summary>The account the tests log in as: the test runner's own (root on CI), so no account is created.</summary>
    public static string User => Environment.UserName;

    public static async Task<SshServer> CreateAsync()
    {
        var folder = Path.Combine("/opt/geo-events-tests", Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(folder);
        const UnixFileMode rwxr_xr_x = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;
        File.SetUnixFileMode("/opt/geo-events-tests", rwxr_xr_x);
        File.SetUnixFileMode(folder, rwxr_xr_x);
        var server = new SshServer(folder, GeoProcess.FreePort());
        await Shell.RunAsync("ssh-keygen", folder, "-q", "-t", "ed25519", "-N", "", "-f", Path.Combine(folder, "host_key"));
        await File.WriteAllTextAsync(server.GitLabShell, "#!/bin/sh\necho \"gitlab-shell $*\"\n");
        File.SetUnixFileMode(server.GitLabShell, rwxr_xr_x);
        return server;
    }

    /// <summary>An executable in this server's folder (root-owned, 0755), as sshd wants for AuthorizedKeysCommand.</summary>
    public async Task<string> WriteScriptAsync(string name, string body)
    {
        var path = Path.Combine(Folder, name);
        await File.WriteAllTextAsync(path, "#!/bin/sh\n" + body + "\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        return path;
    }

    /// <summary>
    /// Starts sshd with either an AuthorizedKeysFile or an AuthorizedKeysCommand; <paramref name="extraConfig"/> adds
    /// lines (e.g. <c>PubkeyAcceptedAlgorithms +ssh-dss</c>).
    /// </summary>
    public async Task StartAsync(string? authorizedKeysCommand = null, string extraConfig = "")
    {
        var keys = authorizedKeysCommand is null
            ? $"AuthorizedKeysFile {AuthorizedKeysFile}"
            : $"AuthorizedKeysFile none\nAuthorizedKeysCommand {authorizedKeysCommand} %u %t %k\nAuthorizedKeysCommandUser {User}";
        var config = Path.Combine(Folder, "sshd_config");
        await File.WriteAllTextAsync(config, $"""
            Port {Port}
            ListenAddress 127.0.0.1
            HostKey {Path.Combine(Folder, "host_key")}
            PidFile {Path.Combine(Folder, "sshd.pid")}
            {keys}
            PubkeyAuthentication yes
            PasswordAuthentication no
            KbdInteractiveAuthentication no
            PermitRootLogin prohibit-password
            UsePAM no
            StrictModes no
            LogLevel VERBOSE
            {extraConfig}

            """);
        Directory.CreateDirectory("/run/sshd"); // privilege separation folder

        var info = new ProcessStartInfo("/usr/sbin/sshd") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in new[] { "-D", "-e", "-f", config, "-E", LogPath })
        {
            info.ArgumentList.Add(arg);
        }

        _process = Process.Start(info)!;
        await GeoSite.WaitUntilAsync(() => Task.FromResult(Listening()), TimeSpan.FromSeconds(15), () => "sshd did not listen:\n" + SafeLog());
    }

    private bool Listening()
    {
        try
        {
            using var client = new TcpClient();
            client.Connect("127.0.0.1", Port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>Logs in with a private key, as a Git client would; returns ssh's exit code and output.</summary>
    public async Task<(int ExitCode, string Output)> LoginAsync(string privateKey, params string[] options)
    {
        var info = new ProcessStartInfo("ssh") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in options.SelectMany(o => new[] { "-o", o }).Concat(new[]
        {
            "-i", privateKey, "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", "StrictHostKeyChecking=no",
            "-o", "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=10", "-o", "LogLevel=ERROR",
            $"{User}@127.0.0.1",
        }))
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, (await stdout).Trim() + (await stderr).Trim());
    }

    public string SafeLog() => File.Exists(LogPath) ? File.ReadAllText(LogPath) : "(no log)";

    public async ValueTask DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process?.Dispose();
        Directory.Delete(Folder, recursive: true);
    }
}
