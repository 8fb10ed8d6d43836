using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Geo.Events.Benchmarks;

/// <summary>One measured figure: the median of its runs, and where it has a floor, the ratio to it.</summary>
public sealed record Figure(string Name, string Unit, IReadOnlyList<double> Runs, string? Goal = null, bool? GoalMet = null, double? Floor = null, string? FloorName = null)
{
    public double Median => Stats.Median(Runs);

    /// <summary>Measured over floor: for a rate, the fraction of the floor reached; for a latency, how many floors it takes.</summary>
    public double? Ratio => Floor is > 0 ? Median / Floor : null;
}

public sealed record ScenarioResult(string Name, string Description, IReadOnlyList<Figure> Figures, IReadOnlyList<string> Notes);

public static class Stats
{
    public static double Median(IReadOnlyList<double> values) => Percentile(values, 50);

    public static double Percentile(IReadOnlyList<double> values, double percentile)
    {
        if (values.Count == 0)
        {
            return double.NaN;
        }

        var sorted = values.Order().ToArray();
        var rank = percentile / 100 * (sorted.Length - 1);
        var low = (int)Math.Floor(rank);
        var high = (int)Math.Ceiling(rank);
        return sorted[low] + ((sorted[high] - sorted[low]) * (rank - low));
    }
}

public static class Report
{
    public static async Task WriteAsync(string folder, bool quick, IReadOnlyList<ScenarioResult> results)
    {
        Directory.CreateDirectory(folder);
        var machine = $"{Environment.ProcessorCount} cores, {GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1 << 30)} GiB, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}";
        var document = new
        {
            generatedAt = DateTimeOffset.UtcNow,
            quick,
            machine,
            scenarios = results.Select(r => new
            {
                r.Name,
                r.Description,
                r.Notes,
                figures = r.Figures.Select(f => new { f.Name, f.Unit, median = f.Median, f.Runs, f.Floor, f.FloorName, ratio = f.Ratio, f.Goal, f.GoalMet }),
            }),
        };
        await File.WriteAllTextAsync(Path.Combine(folder, "bench.json"), JsonSerializer.Serialize(document, new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true }));

        var md = new StringBuilder();
        md.AppendLine(CultureInfo.InvariantCulture, $"# Geo.Events benchmarks{(quick ? " (QUICK: smoke run, figures not meaningful)" : "")}");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"{DateTimeOffset.UtcNow:u} on {machine}. Each figure is the median of its runs; a ratio compares it with its floor measured in the same run.");
        foreach (var result in results)
        {
            md.AppendLine();
            md.AppendLine(CultureInfo.InvariantCulture, $"## {result.Name}");
            md.AppendLine();
            md.AppendLine(result.Description);
            md.AppendLine();
            md.AppendLine("| figure | median | runs | floor | ratio | goal |");
            md.AppendLine("| --- | --- | --- | --- | --- | --- |");
            foreach (var f in result.Figures)
            {
                md.AppendLine(CultureInfo.InvariantCulture,
                    $"| {f.Name} | {Format(f.Median)} {f.Unit} | {string.Join(", ", f.Runs.Select(Format))} | {(f.Floor is { } floor ? $"{Format(floor)} ({f.FloorName})" : "")} | {(f.Ratio is { } ratio ? ratio.ToString("0.00", CultureInfo.InvariantCulture) : "")} | {(f.Goal is null ? "" : $"{f.Goal}: {(f.GoalMet == true ? "met" : "missed")}")} |");
            }

            foreach (var note in result.Notes)
            {
                md.AppendLine();
                md.AppendLine(CultureInfo.InvariantCulture, $"- {note}");
            }
        }

        await File.WriteAllTextAsync(Path.Combine(folder, "bench.md"), md.ToString());
    }

    public static string Format(double value) => value switch
    {
        double.NaN => "n/a",
        >= 100 => value.ToString("0", CultureInfo.InvariantCulture),
        >= 10 => value.ToString("0.0", CultureInfo.InvariantCulture),
        _ => value.ToString("0.000", CultureInfo.InvariantCulture),
    };
}
