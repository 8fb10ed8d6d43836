using Geo.Events.Core.Configuration;
using Geo.Events.Core.Observability;
using Geo.Events.Primary;
using Geo.Events.Primary.Admin;
using Geo.Events.Primary.Files;
using Geo.Events.Primary.Hooks;
using Geo.Events.Primary.Secondaries;

if (args is [AdminTokenCommand.Verb, ..])
{
    return await AdminTokenCommand.RunAsync(args); // create, revoke, list admin API tokens
}

if (args is ["hash-token", ..])
{
    // Prints the SHA-256 to configure as Primary:HookTokenSha256; reads the token from stdin so it stays out of shell history.
    var token = (await Console.In.ReadToEndAsync()).TrimEnd('\r', '\n');
    Console.WriteLine(HookToken.Hash(token));
    return 0;
}

// appsettings.json sits beside the binary, wherever the process is started from.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.Configuration.AddGeoSources(args);
builder.AddGeoTracing("geo-primary");    // OpenTelemetry: hook → outbox → broker → apply, OTLP when configured

builder.AddEventStore()     // PostgreSQL: the event_log outbox
       .AddMessaging()      // RabbitMQ: publish topology, the secondaries' queues, dead-letter ingest
       .AddHookIngest();    // POST /hooks/system → validate → event_log → dispatcher

var app = builder.Build();
if (!app.SettingsAreValid("geo-primary")) // every setting checked once, before PostgreSQL is waited for
{
    return GeoOptions.BadSettingsExitCode;
}

await app.MigrateAsync();
app.MapHookEndpoints();       // POST /hooks/system
app.MapSecondaryEndpoints();  // POST /api/v1/secondaries (registration), PUT …/{name}/status (heartbeat), inventory
app.MapFileEndpoints();       // GET /api/v1/secondaries/{name}/files/{kind}/{path}: bytes for secondaries, Range and ETag
app.MapAdminEndpoints();      // /api/v1/admin/… and the status page /admin: admin tokens, scopes read and admin
app.MapHealthEndpoints();     // /health/live, /health/ready, /metrics
await app.RunAsync();
return 0;
