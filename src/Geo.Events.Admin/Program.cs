using System.CommandLine;
using Geo.Events.Admin;
using Geo.Events.Admin.DeadLetters;
using Geo.Events.Admin.Events;
using Geo.Events.Admin.Secondaries;

var root = new RootCommand("geo-admin: operate a Geo.Events deployment (settings: appsettings.json beside the binary, then GEO_ variables)");
root.Subcommands.Add(DlqCommands.Build());
root.Subcommands.Add(WaitCommand.Build());
root.Subcommands.Add(EventCommands.Build());
foreach (var command in SecondaryCommands.Build().Concat(ReconcileCommands.Build()).Concat(Geo.Events.Admin.SafetyNet.SafetyNetCommands.Build()))
{
    root.Subcommands.Add(command);
}

// A pipe or a file has no width: Spectre would cut every table to 80 columns (headers like "secon…").
if (Console.IsOutputRedirected)
{
    Spectre.Console.AnsiConsole.Profile.Width = 4096;
}

var url = new Option<string?>("--url") { Description = $"geo-primary's URL: use its admin API (token in {AdminContext.TokenVariable}) instead of its database and broker; or {AdminContext.UrlVariable}", Recursive = true };
root.Options.Add(url);

var parse = root.Parse(args);
if (parse.Errors.Count == 0 && parse.GetValue(url) is { Length: > 0 } primaryUrl)
{
    Environment.SetEnvironmentVariable(AdminContext.UrlVariable, primaryUrl);
}

if (parse.Errors.Count > 0)
{
    foreach (var error in parse.Errors)
    {
        await Console.Error.WriteLineAsync($"geo-admin: {error.Message}");
    }

    await Console.Error.WriteLineAsync("try: geo-admin --help");
    return ExitCodes.Usage;
}

return await parse.InvokeAsync();
