using System.Globalization;
using Geo.Events.Contracts.Api;
using Geo.Events.Core.DeadLetters;
using Geo.Events.Core.Messaging;
using Geo.Events.Core.Secondaries;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Geo.Events.Primary.Admin;

/// <summary>
/// The admin API's dead letters (<c>/api/v1/admin/dead-letters…</c>) and registered secondaries
/// (<c>/api/v1/admin/secondaries…</c>): what <c>geo-admin dlq</c> and <c>geo-admin secondaries</c> do through
/// geo-primary. Replay, delete, restore and remove need scope <c>admin</c> and are recorded with the token's name.
/// </summary>
public static class AdminDeadLetterEndpoints
{
    public static void MapAdminDeadLetterEndpoints(this IEndpointRouteBuilder app)
    {
        var read = app.MapGroup("/api/v1/admin").RequireAdminToken(AdminTokenStore.ReadScope);
        read.MapGet("/dead-letters", ListAsync);
        read.MapGet("/dead-letters/{id:long}", ShowAsync);
        read.MapGet("/dead-letters/history", HistoryAsync);
        read.MapGet("/secondaries", (NpgsqlDataSource db, CancellationToken ct) => SecondaryRemoval.ListAsync(db, null, null, ct));
        read.MapGet("/secondaries/{name}/registration", RegistrationAsync);
        read.MapGet("/events", EventsAsync);

        var act = app.MapGroup("/api/v1/admin").RequireAdminToken(AdminTokenStore.AdminScope);
        act.MapPost("/dead-letters/replay", (DeadLetterSelection selection, HttpContext http, CancellationToken ct) => ActAsync(DeadLetterAction.Replay, selection, http, ct));
        act.MapPost("/dead-letters/delete", (DeadLetterSelection selection, HttpContext http, CancellationToken ct) => ActAsync(DeadLetterAction.Archive, selection, http, ct));
        act.MapPost("/dead-letters/restore", (DeadLetterSelection selection, HttpContext http, CancellationToken ct) => ActAsync(DeadLetterAction.Restore, selection, http, ct));
        act.MapDelete("/secondaries/{name}", RemoveAsync);
    }

    private static IResult BadRequest(string title, string detail) => Results.Problem(title: title, detail: detail, statusCode: StatusCodes.Status400BadRequest);

    private static IResult NotFound(string title, string detail) => Results.Problem(title: title, detail: detail, statusCode: StatusCodes.Status404NotFound);

    private static async Task<IResult> ListAsync(string? secondary, string? type, string? project, string? exception, string? group, string? since, string? state,
        NpgsqlDataSource db, CancellationToken ct)
    {
        state ??= DeadLetterState.Failed;
        if (state is not (DeadLetterState.Failed or DeadLetterState.Replayed or DeadLetterState.Archived or "all"))
        {
            return BadRequest("Bad state", $"'state' is failed, replayed, archived or all, not '{state}'");
        }

        DateTimeOffset? from = null;
        if (since is not null)
        {
            if (!DateTimeOffset.TryParse(since, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
            {
                return BadRequest("Bad time", $"'since' is a time such as 2026-11-25T10:00Z, not '{since}'");
            }

            from = at;
        }

        var filter = new DeadLetterFilter
        {
            Secondary = secondary,
            MessageType = type,
            Project = project,
            Exception = exception,
            Group = group,
            Since = from,
            State = state == "all" ? null : state,
        };
        return Results.Ok(await new DeadLetterStore(db).FindAsync(filter, ct));
    }

    private static async Task<IResult> ShowAsync(long id, NpgsqlDataSource db, CancellationToken ct) =>
        await new DeadLetterStore(db).GetAsync(id, ct) is { } letter ? Results.Ok(letter) : NotFound("No such dead letter", $"no dead letter {id}");

    private static async Task<IResult> HistoryAsync(int? limit, NpgsqlDataSource db, CancellationToken ct) =>
        limit is < 1 or > 10_000
            ? BadRequest("Bad limit", "'limit' is a number of batches from 1 to 10000")
            : Results.Ok(await new DeadLetterStore(db).HistoryAsync(limit ?? 20, ct));

    private static async Task<IResult> ActAsync(string action, DeadLetterSelection selection, HttpContext http, CancellationToken ct)
    {
        var filter = new DeadLetterFilter
        {
            Ids = selection.Ids,
            Secondary = selection.Secondary,
            MessageType = selection.Type,
            Project = selection.Project,
            Exception = selection.Exception,
            Group = selection.Group,
            Since = selection.Since,
            State = DeadLetterActions.StateFor(action, selection.Force),
        };
        if (!filter.IsBounded && !selection.All)
        {
            return BadRequest("Unbounded selection", "name dead letter ids, a group or a filter (secondary, type, project, exception, since), or say all");
        }

        var actions = Actions(http.RequestServices);
        var actor = AdminAuth.Actor(http);
        return Results.Ok(action == DeadLetterAction.Replay
            ? await actions.ReplayAsync(filter, selection.DryRun, actor, ct)
            : await actions.ChangeStateAsync(action, filter, selection.DryRun, actor, ct));
    }

    private static async Task<IResult> RegistrationAsync(string name, HttpContext http, CancellationToken ct)
    {
        var services = http.RequestServices;
        var found = await SecondaryRemoval.ListAsync(services.GetRequiredService<NpgsqlDataSource>(), services.GetRequiredService<IOptions<RabbitMqOptions>>().Value, name, ct);
        return found.SingleOrDefault() is { } secondary ? Results.Ok(secondary) : NotFound("No such secondary", $"no secondary named '{name}' is registered");
    }

    private static async Task<IResult> RemoveAsync(string name, HttpContext http, CancellationToken ct)
    {
        if (GeoTopology.SecondaryNameProblem(name) is { } problem)
        {
            return BadRequest("Bad name", problem);
        }

        var services = http.RequestServices;
        var removal = new SecondaryRemoval(services.GetRequiredService<NpgsqlDataSource>(), services.GetRequiredService<IOptions<RabbitMqOptions>>().Value);
        return await removal.RemoveAsync(name, AdminAuth.Actor(http), ct) is { } removed
            ? Results.Ok(removed)
            : NotFound("No such secondary", $"no secondary named '{name}' is registered");
    }

    /// <summary><c>geo-admin events</c>: the newest events geo-primary recorded (one project's with <c>project</c>).</summary>
    private static async Task<IResult> EventsAsync(int? limit, long? project, Core.Outbox.EventLog eventLog, CancellationToken ct) =>
        limit is < 1 or > 10_000
            ? BadRequest("Bad limit", "'limit' is a number of events from 1 to 10000")
            : Results.Ok(await eventLog.RecentAsync(limit ?? 20, project, ct));

    private static DeadLetterActions Actions(IServiceProvider services) =>
        new(services.GetRequiredService<NpgsqlDataSource>(), services.GetRequiredService<IOptions<RabbitMqOptions>>().Value);
}
