using System.Reflection;
using System.Runtime.InteropServices;
using LibGit2Sharp;

namespace Geo.Events.Core.Repositories;

/// <summary>
/// libgit2's process-wide network timeouts. Without them a fetch from a primary that accepts the connection and
/// then says nothing waits as long as the kernel does (for ever, on an idle TCP connection), holding its fetch
/// slot and its message. LibGit2Sharp does not expose these options, so they are set through
/// <c>git_libgit2_opts</c> in the native library LibGit2Sharp itself loaded.
/// </summary>
/// <remarks>
/// They apply to every remote reached over a socket (http, https, and git's own protocol); a local path or
/// <c>file://</c> remote has no socket and needs none. The I/O timeout bounds each read or write, not the whole
/// fetch: a large clone that keeps receiving is never cut off.
/// </remarks>
public static class GitNetworkTimeouts
{
    // git_libgit2_opt_t in libgit2's include/git2/common.h (1.7 and later).
    private const int SetServerConnectTimeout = 39;
    private const int GetServerConnectTimeout = 40;
    private const int SetServerTimeout = 41;
    private const int GetServerTimeout = 42;

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate int SetOption(int option, int value);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate int GetOption(int option, out int value);

    private static readonly Lazy<(SetOption Set, GetOption Get)> Native = new(Bind);

    /// <summary>Sets both timeouts; <see cref="TimeSpan.Zero"/> leaves the operating system's default.</summary>
    public static void Apply(TimeSpan connect, TimeSpan io)
    {
        Set(SetServerConnectTimeout, GetServerConnectTimeout, connect, "connect");
        Set(SetServerTimeout, GetServerTimeout, io, "I/O");
    }

    /// <summary>The timeouts libgit2 uses now, as it reports them.</summary>
    public static (TimeSpan Connect, TimeSpan Io) Current()
    {
        var (_, get) = Native.Value;
        Check(get(GetServerConnectTimeout, out var connect), "read the connect timeout");
        Check(get(GetServerTimeout, out var io), "read the I/O timeout");
        return (TimeSpan.FromMilliseconds(connect), TimeSpan.FromMilliseconds(io));
    }

    private static void Set(int setOption, int getOption, TimeSpan value, string what)
    {
        if (value < TimeSpan.Zero || value.TotalMilliseconds > int.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(value), value, $"the git {what} timeout must be between 0 and {TimeSpan.FromMilliseconds(int.MaxValue)}");
        }

        var (set, get) = Native.Value;
        var milliseconds = (int)value.TotalMilliseconds;
        Check(set(setOption, milliseconds), $"set the {what} timeout");

        // The option numbers are libgit2's enum, not checked by any compiler: read the value back so that a
        // libgit2 whose numbering differs fails here, at start, rather than silently setting something else.
        Check(get(getOption, out var actual), $"read the {what} timeout");
        if (actual != milliseconds)
        {
            throw new InvalidOperationException($"libgit2 reports a {what} timeout of {actual} ms after it was set to {milliseconds} ms; this libgit2 numbers its options differently");
        }
    }

    private static void Check(int result, string what)
    {
        if (result < 0)
        {
            throw new InvalidOperationException($"libgit2 could not {what} (error {result}): {GlobalSettings.Version.InformationalVersion}");
        }
    }

    private static (SetOption, GetOption) Bind()
    {
        // Touching GlobalSettings makes LibGit2Sharp load and initialise its native library; loading the same
        // name again through LibGit2Sharp's assembly finds that very library (its deps.json native asset).
        _ = GlobalSettings.Version;
        var assembly = typeof(Repository).Assembly;
        var name = assembly.GetType("LibGit2Sharp.Core.NativeDllName")?.GetField("Name", BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static)?.GetRawConstantValue() as string
            ?? throw new InvalidOperationException($"cannot find the name of LibGit2Sharp's native library in {assembly.FullName}");
        var library = NativeLibrary.Load(name, assembly, null);
        var export = NativeLibrary.GetExport(library, "git_libgit2_opts");
        return (Marshal.GetDelegateForFunctionPointer<SetOption>(export), Marshal.GetDelegateForFunctionPointer<GetOption>(export));
    }
}
