using System.CommandLine;
using System.Globalization;
using Geo.Events.Admin.Secondaries;
using Geo.Events.Contracts.Api;
using Geo.Events.Core.Secondaries;
using Spectre.Console;

namespace Geo.Events.Admin.SafetyNet;

/// <summary>
/// <c>geo-admin trash list|restore|release</c> and <c>geo-admin guard release|discard</c>: the secondaries' safety net.
/// Lists come from the secondaries' last status reports; actions are requests left for a secondary (through the admin
/// API or geo-primary's database, like backfill), which it carries out with its next status report.
/// </summary>
public static class SafetyNetCommands
{
    public static IEnumerable<Command> Build()
    {
        var onlySecondary = new Option<string?>("--secondary") { Description = "only this secondary (default: every registered one)" };
        var list = new Command("list", "what the secondaries keep in their trash (project, path, when, size) and hold restored") { onlySecondary, ReconcileCommands.Output };
        list.SetAction((parse, ct) => Cli.Run(ctx => ListAsync(ctx, parse.GetValue(onlySecondary), parse.GetValue(ReconcileCommands.Output)!, ct)));

        var project = new Argument<string>("project") { Description = "the project's id, or its path with namespace" };
        var secondary = new Option<string>("--secondary") { Description = "the secondary whose trash holds it", Required = true };
        var to = new Option<string?>("--to") { Description = "restore at this path instead of the old one" };
        var restore = new Command("restore", "put a destroyed project's mirrors back from a secondary's trash and hold them until 'trash release'")
            { project, secondary, to, ReconcileCommands.NoWait, ReconcileCommands.Timeout, ReconcileCommands.Output };
        restore.SetAction((parse, ct) => Cli.Run(async ctx =>
        {
            var path = parse.GetValue(to);
            if (path is not null && Core.Paths.ProjectPath.Problem(path) is { } problem)
            {
                throw new UsageException($"--to '{path}' is not a project path: it {problem}");
            }

            var id = await ProjectIdAsync(ctx, parse.GetValue(project)!, parse.GetValue(secondary)!, ct);
            return await ReconcileCommands.RequestAsync(ctx, SafetyNetKind.TrashRestore, [parse.GetValue(secondary)!], id, parse, ct, path);
        }));

        var release = new Command("release", "stop holding a restored project: its mirrors go back to the trash")
            { project, secondary, ReconcileCommands.NoWait, ReconcileCommands.Timeout, ReconcileCommands.Output };
        release.SetAction((parse, ct) => Cli.Run(async ctx =>
        {
            var id = await ProjectIdAsync(ctx, parse.GetValue(project)!, parse.GetValue(secondary)!, ct);
            return await ReconcileCommands.RequestAsync(ctx, SafetyNetKind.TrashRelease, [parse.GetValue(secondary)!], id, parse, ct);
        }));

        var trash = new Command("trash", "destroyed mirrors kept for Secondary:DestroyRetention") { list, restore, release };

        var guarded = new Argument<string>("secondary") { Description = "the guarded secondary's name" };
        var guardRelease = new Command("release", "apply the destroys the mass-destruction guard holds, and stop guarding")
            { guarded, ReconcileCommands.NoWait, ReconcileCommands.Timeout, ReconcileCommands.Output };
        guardRelease.SetAction((parse, ct) => Cli.Run(ctx => ReconcileCommands.RequestAsync(ctx, SafetyNetKind.GuardRelease, [parse.GetValue(guarded)!], null, parse, ct)));
        var guardDiscard = new Command("discard", "drop the destroys the guard holds (their mirrors stay; verification reports them as extra), and stop guarding")
            { guarded, ReconcileCommands.NoWait, ReconcileCommands.Timeout, ReconcileCommands.Output };
        guardDiscard.SetAction((parse, ct) => Cli.Run(ctx => ReconcileCommands.RequestAsync(ctx, SafetyNetKind.GuardDiscard, [parse.GetValue(guarded)!], null, parse, ct)));
        var guard = new Command("guard", "the mass-destruction guard (Secondary:DestroyGuardPercent, DestroyGuardCount, DestroyGuardWindow)") { guardRelease, guardDiscard };

        var atticList = new Command("list", "old tips a secondary keeps in a project's hidden attic (refs/geo-attic/…)") { project, secondary, ReconcileCommands.Output };
        atticList.SetAction((parse, ct) => Cli.Run(async ctx =>
        {
            var output = parse.GetValue(ReconcileCommands.Output)!;
            Cli.CheckOutput(output);
            var name = parse.GetValue(secondary)!;
            var id = await ReconcileCommands.ResolveProjectAsync(ctx, parse.GetValue(project)!, ct);
            if (await SafetyNetAsync(ctx, name, ct) is not { } net)
            {
                await Console.Error.WriteLineAsync($"geo-admin: no secondary named '{name}' is registered");
                return ExitCodes.NotFound;
            }

            var rows = (net.Attic ?? []).Where(a => a.ProjectId == id).ToList();
            return Cli.Print(output, rows, table =>
            {
                table.AddColumns("kind", "attic ref", "was", "commit", "kept", "expires");
                foreach (var a in rows)
                {
                    table.AddRow(a.Kind, Markup.Escape(a.Ref), Markup.Escape(a.OriginalRef), a.Sha, a.KeptAt.ToString("u", CultureInfo.InvariantCulture), a.ExpiresAt.ToString("u", CultureInfo.InvariantCulture));
                }
            }, $"{rows.Count} old tips of project {id} on {name}, as of its last status report");
        }));

        var atticRef = new Argument<string>("ref") { Description = "the attic ref, refs/geo-attic/<unix ms>/heads/<branch> (see 'attic list')" };
        var toRef = new Option<string>("--to") { Description = "the new ref to create at that commit, e.g. refs/heads/recovered", Required = true };
        var atticRestore = new Command("restore", "create a ref at an old tip kept in the attic (held until the primary has that ref)")
            { project, atticRef, secondary, toRef, ReconcileCommands.NoWait, ReconcileCommands.Timeout, ReconcileCommands.Output };
        atticRestore.SetAction((parse, ct) => Cli.Run(async ctx =>
        {
            var from = parse.GetValue(atticRef)!;
            var to = parse.GetValue(toRef)!;
            if (!from.StartsWith(Core.Repositories.RefsChecksum.AtticPrefix, StringComparison.Ordinal) || !LibGit2Sharp.Reference.IsValidName(from))
            {
                throw new UsageException($"'{from}' is not an attic ref (refs/geo-attic/…)");
            }

            if (!to.StartsWith("refs/", StringComparison.Ordinal) || to.StartsWith(Core.Repositories.RefsChecksum.AtticPrefix, StringComparison.Ordinal) || !LibGit2Sharp.Reference.IsValidName(to))
            {
                throw new UsageException($"--to '{to}' must be a ref name under refs/ outside the attic, e.g. refs/heads/recovered");
            }

            var id = await ReconcileCommands.ResolveProjectAsync(ctx, parse.GetValue(project)!, ct);
            return await ReconcileCommands.RequestAsync(ctx, SafetyNetKind.AtticRestore, [parse.GetValue(secondary)!], id, parse, ct, $"{from} {to}");
        }));
        var attic = new Command("attic", "history a force push or a deletion overwrote, kept hidden for Secondary:OverwriteRetention") { atticList, atticRestore };

        return [trash, guard, attic];
    }

    /// <summary>An id as given; a path: the project whose latest event names it, else the trash entry that had that path.</summary>
    private static async Task<long> ProjectIdAsync(AdminContext context, string project, string secondary, CancellationToken ct)
    {
        if (long.TryParse(project, NumberStyles.None, CultureInfo.InvariantCulture, out var id) && id > 0)
        {
            return id;
        }

        if (Core.Paths.ProjectPath.Problem(project) is { } problem)
        {
            throw new UsageException($"'{project}' is neither a project id nor a valid project path: it {problem}");
        }

        var safetyNet = await SafetyNetAsync(context, secondary, ct);
        if (safetyNet?.Trash?.FirstOrDefault(e => e.Path == project) is { } entry)
        {
            return entry.ProjectId;
        }

        if (safetyNet?.Restored?.FirstOrDefault(r => r.Path == project) is { } held)
        {
            return held.ProjectId;
        }

        return await ReconcileCommands.ResolveProjectAsync(context, project, ct);
    }

    private static async Task<SafetyNetStatus?> SafetyNetAsync(AdminContext context, string name, CancellationToken ct)
    {
        if (context.Api is { } api)
        {
            return await api.SafetyNetAsync(name, ct);
        }

        var row = (await new SecondaryStore(context.DataSource).RowsAsync(name, ct)).SingleOrDefault();
        return row is null ? null : SecondaryStore.ReadStatus(row.Status)?.SafetyNet ?? new SafetyNetStatus();
    }

    private static async Task<int> ListAsync(AdminContext context, string? only, string output, CancellationToken ct)
    {
        Cli.CheckOutput(output);
        IReadOnlyList<string> names = only is not null ? [only]
            : context.Api is { } api ? (await api.StatusAsync(TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(2), ct)).Secondaries.Select(s => s.Name).ToList()
            : await new SecondaryStore(context.DataSource).NamesAsync(ct);
        var rows = new List<TrashRow>();
        foreach (var name in names)
        {
            if (await SafetyNetAsync(context, name, ct) is not { } net)
            {
                await Console.Error.WriteLineAsync($"geo-admin: no secondary named '{name}' is registered");
                return ExitCodes.NotFound;
            }

            rows.AddRange((net.Trash ?? []).Select(e => new TrashRow(name, e.ProjectId, e.Kind, e.Path, "trash", e.TrashedAt, e.PurgeAt, e.SizeBytes, e.Name)));
            rows.AddRange((net.Restored ?? []).Select(r => new TrashRow(name, r.ProjectId, "project", r.Path, "restored (held)", r.RestoredAt, null, null, null)));
        }

        return Cli.Print(output, rows, table =>
        {
            table.AddColumns("secondary", "project", "kind", "path", "state", "when", "purged at", "size");
            foreach (var r in rows)
            {
                table.AddRow(Markup.Escape(r.Secondary), r.ProjectId.ToString(CultureInfo.InvariantCulture), r.Kind, Markup.Escape(r.Path ?? "?"), r.State,
                    r.When.ToString("u", CultureInfo.InvariantCulture), r.PurgeAt?.ToString("u", CultureInfo.InvariantCulture) ?? "", r.SizeBytes is { } size ? Size(size) : "");
            }
        }, $"{rows.Count} entries, as of each secondary's last status report");
    }

    private static string Size(long bytes) => bytes switch
    {
        < 1024 => $"{bytes} B",
        < 1024 * 1024 => $"{bytes / 1024.0:0.#} KiB",
        < 1024L * 1024 * 1024 => $"{bytes / 1024.0 / 1024:0.#} MiB",
        _ => $"{bytes / 1024.0 / 1024 / 1024:0.##} GiB",
    };

    private sealed record TrashRow(string Secondary, long ProjectId, string Kind, string? Path, string State, DateTimeOffset When, DateTimeOffset? PurgeAt, long? SizeBytes, string? Name);
}
