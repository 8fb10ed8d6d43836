using Geo.Events.Core.Observability;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Geo.Events.Tests.Observability;

/// <summary>Observability:StageTrace: one line per event and stage while it is set, nothing at all while it is not.</summary>
[TestClass]
public sealed class StageTraceTests
{
    private static async Task RunHostAsync(Dictionary<string, string?> settings, Action marks)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var builder = Host.CreateApplicationBuilder();
        StageTrace.AddStageTrace(builder.Services, configuration);
        using var host = builder.Build();
        await host.StartAsync();
        marks();
        await host.StopAsync();
    }

    [TestMethod]
    [DoNotParallelize] // StageTrace.Current is the process's
    public async Task WithTheSettingEachMarkIsOneLineInOrderWithItsSequenceAndTime()
    {
        var folder = Directory.CreateTempSubdirectory("stage-trace-").FullName;
        try
        {
            var path = Path.Combine(folder, "stages.log");
            var received = new DateTimeOffset(2026, 11, 27, 1, 2, 3, TimeSpan.FromHours(2)).AddTicks(4567);
            var before = DateTime.UtcNow;
            await RunHostAsync(new() { [StageTrace.Setting] = path }, () =>
            {
                StageTrace.Committed(41, received);
                StageTrace.Mark("published", 41);
                StageTrace.Mark("delivered", 42);
            });
            Assert.IsNull(StageTrace.Current, "the trace is closed when the host stops");

            var lines = File.ReadAllLines(path).Select(l => l.Split(' ')).ToList();
            CollectionAssert.AreEqual(new[] { "received 41", "committed 41", "published 41", "delivered 42" }, lines.Select(l => $"{l[1]} {l[2]}").ToList());
            Assert.AreEqual(received.UtcDateTime, DateTime.Parse(lines[0][0], null, System.Globalization.DateTimeStyles.RoundtripKind), "received is the event's own time, in UTC");
            var times = lines.Skip(1).Select(l => DateTime.Parse(l[0], null, System.Globalization.DateTimeStyles.RoundtripKind)).ToList();
            Assert.IsTrue(times.All(t => t.Kind == DateTimeKind.Utc && t >= before && t <= DateTime.UtcNow), string.Join(", ", times));
            CollectionAssert.AreEqual(times.Order().ToList(), times, "marks are written in the order they were made");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [TestMethod]
    [DoNotParallelize]
    public async Task WithoutTheSettingNothingIsWritten()
    {
        var folder = Directory.CreateTempSubdirectory("stage-trace-").FullName;
        try
        {
            var path = Path.Combine(folder, "stages.log");
            await RunHostAsync(new() { ["Observability:Other"] = path }, () =>
            {
                Assert.IsNull(StageTrace.Current);
                StageTrace.Committed(41, DateTimeOffset.UtcNow);
                StageTrace.Mark("published", 41);
            });
            Assert.AreEqual(0, Directory.GetFileSystemEntries(folder).Length);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
