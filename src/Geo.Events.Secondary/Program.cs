using Geo.Events.Core.Configuration;
using Geo.Events.Secondary;

// appsettings.json sits beside the binary, wherever the process is started from.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.Configuration.AddGeoSources(args);

builder.AddRegistry()      // PostgreSQL: the secondary's registry and repository locks
       .AddMirrors()       // bare mirrors on disk, fetched with LibGit2Sharp
       .AddConsumers();    // RabbitMQ: geo.secondary.<name> → RepositorySyncConsumer

var app = builder.Build();
await app.MigrateAsync();
app.MapGet("/health/live", () => Results.Ok(new { status = "live" }));
await app.RunAsync();
