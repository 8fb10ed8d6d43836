using System.Globalization;
using System.Threading.Channels;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Geo.Events.Core.Observability;

/// <summary>
/// An opt-in trace of the stages each event passes, for finding which stage is slow: with
/// <c>Observability:StageTrace</c> set to a file path, the process appends one line per event and stage,
/// <c>&lt;UTC time, ISO 8601&gt; &lt;stage&gt; &lt;sequence&gt;</c>. The call that marks a stage only queues three values
/// (no formatting, no I/O, never waits); a background task writes them. Off (the default), a mark is one null check.
/// Stages: geo-primary <c>received</c> (the event's OccurredAt), <c>committed</c>, <c>published</c> (confirmed by the
/// broker); geo-secondary <c>delivered</c> (its consumer starts), <c>started</c> and <c>fetched</c> (a repository sync
/// after its waits, and after its fetch; the sequence is the highest one the sync covers), <c>applied</c> (the
/// consumer is done with the event).
/// </summary>
public sealed class StageTrace : IAsyncDisposable
{
    public const string Setting = "Observability:StageTrace";

    private readonly Channel<Entry> _entries = Channel.CreateUnbounded<Entry>(new UnboundedChannelOptions { SingleReader = true });
    private readonly StreamWriter _file;
    private readonly Task _writer;

    private readonly record struct Entry(DateTime At, string Stage, long Sequence);

    private StageTrace(string path)
    {
        var stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
        _file = new StreamWriter(stream) { AutoFlush = false };
        _writer = Task.Run(WriteAsync);
    }

    /// <summary>The trace this process writes to, or null when the setting is off.</summary>
    public static StageTrace? Current { get; private set; }

    /// <summary>Opens (appends to) the trace file at <paramref name="path"/>.</summary>
    public static StageTrace Open(string path) => new(path);

    /// <summary>Marks <paramref name="stage"/> of event <paramref name="sequence"/> now, in this process's trace if it has one.</summary>
    public static void Mark(string stage, long sequence) => Current?.Add(stage, sequence, DateTime.UtcNow);

    /// <summary>Marks an event <c>received</c> at <paramref name="receivedAt"/> (its OccurredAt) and <c>committed</c> now.</summary>
    public static void Committed(long sequence, DateTimeOffset receivedAt)
    {
        if (Current is { } trace)
        {
            trace.Add("received", sequence, receivedAt.UtcDateTime);
            trace.Add("committed", sequence, DateTime.UtcNow);
        }
    }

    /// <summary>Queues one line; never blocks.</summary>
    public void Add(string stage, long sequence, DateTime at) => _entries.Writer.TryWrite(new Entry(at, stage, sequence));

    private async Task WriteAsync()
    {
        var reader = _entries.Reader;
        while (await reader.WaitToReadAsync())
        {
            while (reader.TryRead(out var entry))
            {
                await _file.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{entry.At:O} {entry.Stage} {entry.Sequence}"));
            }

            await _file.FlushAsync(); // once what was queued is written: a reader sees every line within moments
        }
    }

    /// <summary>Writes what is queued and closes the file.</summary>
    public async ValueTask DisposeAsync()
    {
        _entries.Writer.TryComplete();
        await _writer;
        await _file.DisposeAsync();
    }

    /// <summary>Opens <see cref="Current"/> when <see cref="Setting"/> names a file, and closes it when the host stops.</summary>
    public static void AddStageTrace(IServiceCollection services, IConfiguration configuration)
    {
        var path = configuration[Setting];
        if (!string.IsNullOrWhiteSpace(path))
        {
            services.AddHostedService(_ => new Lifetime(path));
        }
    }

    private sealed class Lifetime(string path) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            try
            {
                Current = Open(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
            {
                throw new InvalidOperationException($"{Setting}: cannot open '{path}' for appending: {e.Message}", e);
            }

            return Task.CompletedTask;
        }

        public async Task StopAsync(CancellationToken cancellationToken)
        {
            if (Current is { } trace)
            {
                Current = null;
                await trace.DisposeAsync();
            }
        }
    }
}
