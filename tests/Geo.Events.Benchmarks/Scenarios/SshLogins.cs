using System.Diagnostics;
using System.Runtime.InteropServices;
using Geo.Events.Testing;
using Npgsql;

namespace Geo.Events.Benchmarks.Scenarios;

/// <summary>
/// What sshd's AuthorizedKeysCommand costs per login, as sshd runs it (a new process, the key's line on stdout):
/// <c>dotnet geo-secondary.dll authorized-keys</c> (a .NET start per login) against the NativeAOT
/// <c>geo-authorized-keys</c>, one login of each in turn so that both see the same load.
/// </summary>
public static class SshLogins
{
    /// <summary>One run's figures for one program: wall-clock per login and CPU (user + system) per login.</summary>
    public sealed record Run(List<double> WallMs, double CpuMsPerLogin);

    /// <summary><paramref name="logins"/> logins of each program, alternating, each presenting a random preloaded key.</summary>
    /// <remarks>
    /// The floor, in turn with them: <c>psql</c> (PostgreSQL's own C client) connecting the same way and running
    /// <c>SELECT 1</c>, i.e. a process start, a password-authenticated connection and one round trip, with no Geo code.
    /// </remarks>
    /// <remarks>
    /// Then the same two over PostgreSQL's Unix socket with no password (<c>ConnectionStrings:AuthorizedKeys</c>; infra/local
    /// trusts local connections as production would with peer authentication): no TCP and no SCRAM key derivation.
    /// </remarks>
    public static async Task<(Run Managed, Run Native, Run Psql, Run NativeSocket, Run PsqlSocket)> RunAsync(GeoSite site, string secondary, int logins)
    {
        var connectionString = TestServers.ConnectionString(site.SecondaryDatabase(secondary));
        var keys = new List<(string Type, string Blob)>();
        await using (var connection = new NpgsqlConnection(connectionString))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"SELECT key_type, key_blob FROM ssh_keys WHERE NOT destroyed ORDER BY random() LIMIT {logins}", connection);
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                keys.Add((reader.GetString(0), reader.GetString(1)));
            }
        }

        var environment = new Dictionary<string, string>
        {
            ["GEO_ConnectionStrings__Postgres"] = connectionString,
            ["GEO_Keys__ShellCommand"] = "/usr/bin/gitlab-shell",
            ["GEO_Keys__SshUser"] = "git",
        };
        var socketString = await TestServers.SocketConnectionStringAsync(site.SecondaryDatabase(secondary));
        var socketEnvironment = new Dictionary<string, string>(environment) { ["GEO_ConnectionStrings__AuthorizedKeys"] = socketString };
        var (managed, native, psql, nativeSocket, psqlSocket) = (new Logins(), new Logins(), new Logins(), new Logins(), new Logins());
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        var psqlEnvironment = new Dictionary<string, string>
        {
            ["PGHOST"] = builder.Host!,
            ["PGPORT"] = builder.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["PGUSER"] = builder.Username!,
            ["PGPASSWORD"] = builder.Password!,
            ["PGDATABASE"] = builder.Database!,
        };
        var psqlSocketEnvironment = new Dictionary<string, string>(psqlEnvironment) { ["PGHOST"] = new NpgsqlConnectionStringBuilder(socketString).Host! };
        psqlSocketEnvironment.Remove("PGPASSWORD");
        foreach (var (type, blob) in keys)
        {
            await managed.TakeAsync("dotnet", [TestServers.SecondaryProgram, "authorized-keys", "git", type, blob], environment);
            await native.TakeAsync(TestServers.AuthorizedKeysProgram, ["git", type, blob], environment);
            await psql.TakeAsync(TestServers.Psql, ["-XAtc", "SELECT ' key-1'"], psqlEnvironment);
            await nativeSocket.TakeAsync(TestServers.AuthorizedKeysProgram, ["git", type, blob], socketEnvironment);
            await psqlSocket.TakeAsync(TestServers.Psql, ["-XAtc", "SELECT ' key-1'"], psqlSocketEnvironment);
        }

        Run Of(Logins program) => new(program.Wall, program.CpuMs / keys.Count);
        return (Of(managed), Of(native), Of(psql), Of(nativeSocket), Of(psqlSocket));
    }

    /// <summary>One program's logins, taken in turn with the others': the wall time of each, and their CPU together.</summary>
    private sealed class Logins
    {
        public List<double> Wall { get; } = [];

        public double CpuMs { get; private set; }

        public async Task TakeAsync(string program, string[] arguments, Dictionary<string, string> environment)
        {
            var (wall, cpu) = await LoginAsync(program, arguments, environment);
            Wall.Add(wall);
            CpuMs += cpu;
        }
    }

    /// <summary>One login: wall-clock ms from start to exit, and the CPU ms the process used (its reaped rusage).</summary>
    private static async Task<(double WallMs, double CpuMs)> LoginAsync(string program, string[] arguments, Dictionary<string, string> environment)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment)
        {
            info.Environment[name] = value;
        }

        var cpuBefore = ChildrenCpuMs();
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        var wall = clock.Elapsed.TotalMilliseconds;
        var cpu = ChildrenCpuMs() - cpuBefore;
        if (!(await output).Contains(" key-", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"{Path.GetFileName(program)} did not find a preloaded key: {await output}{await errors}");
        }

        return (wall, cpu);
    }

    // getrusage(RUSAGE_CHILDREN): CPU of the children that have exited and been reaped. The site's long-running
    // processes are children too but only count once they exit, which they do not during a run. struct rusage on
    // x86-64 Linux: two timevals, then 14 longs (144 bytes).
    [StructLayout(LayoutKind.Sequential, Size = 144)]
    private struct RUsage
    {
        public long UserSeconds, UserMicroseconds, SystemSeconds, SystemMicroseconds;
    }

    [DllImport("libc", EntryPoint = "getrusage", SetLastError = true)]
    private static extern int GetRUsage(int who, out RUsage usage);

    private static double ChildrenCpuMs()
    {
        const int children = -1;
        if (GetRUsage(children, out var usage) != 0)
        {
            throw new InvalidOperationException($"getrusage failed: {Marshal.GetLastPInvokeError()}");
        }

        return ((usage.UserSeconds + usage.SystemSeconds) * 1000.0) + ((usage.UserMicroseconds + usage.SystemMicroseconds) / 1000.0);
    }
}
