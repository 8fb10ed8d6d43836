using Geo.Events.Core.Configuration;
using Geo.Events.Core.Observability;
using Geo.Events.Secondary;
using Geo.Events.Secondary.Keys;
using Geo.Events.Secondary.Registration;
using Geo.Events.Secondary.Repositories;

if (args is [AuthorizedKeysCommand.Verb, ..])
{
    return await AuthorizedKeysCommand.RunAsync("geo-secondary authorized-keys", args[1..]);
}

if (args is [Geo.Events.Secondary.Serving.GitShellCommand.Verb, ..])
{
    return await Geo.Events.Secondary.Serving.GitShellCommand.RunAsync(args);
}

// appsettings.json sits beside the binary, wherever the process is started from.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.Configuration.AddGeoSources(args);
builder.AddGeoTracing("geo-secondary");    // OpenTelemetry: hook → outbox → broker → apply, OTLP when configured

builder.AddRegistry()      // PostgreSQL: the secondary's registry, repository and file locks
       .AddMirrors()       // bare mirrors on disk, fetched with LibGit2Sharp
       .AddKeys()          // SSH keys: registry with tombstones, batched authorized_keys rewrites
       .AddConsumers()     // RabbitMQ: geo.secondary.<name> → RepositorySyncConsumer, ProjectLifecycleConsumer, SshKeyConsumer, FileConsumer
       .AddRegistration()  // registers with geo-primary when not registered yet, then reports status
       .AddServing();      // git clones at the site: smart HTTP on Secondary:ServeUrls, access decided by the primary

var app = builder.Build();
if (!app.SettingsAreValid("geo-secondary")) // every setting checked once, before PostgreSQL is waited for
{
    return GeoOptions.BadSettingsExitCode;
}

app.PrepareMirrors();      // libgit2 timeouts; no temp left by a killed clone
await app.MigrateAsync();
app.MapGitServing();       // Secondary:ServeUrls: read-only smart HTTP from the mirrors, nothing else
app.MapGeoHealthAndMetrics(services => // /health/live, /health/ready, /metrics
    services.GetRequiredService<PrimaryRegistration>().Problem is { } problem ? [$"geo-primary: {problem}"] : []);
app.MapMirrorEndpoints();   // GET /api/v1/mirrors/{id}: is a commit on this site yet (geo-admin wait)
app.CollectRegistryMetrics();
await app.RunAsync();
return 0;
