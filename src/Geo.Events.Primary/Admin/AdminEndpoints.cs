using Geo.Events.Contracts.Api;
using Geo.Events.Core.Messaging;
using Geo.Events.Core.Secondaries;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Geo.Events.Primary.Admin;

/// <summary>
/// The admin API, <c>/api/v1/admin/…</c>: what geo-admin and monitoring read and do without PostgreSQL or broker
/// credentials. Every route needs an admin token (<see cref="AdminAuth"/>): scope <c>read</c> to look, <c>admin</c> to
/// act; every action is recorded with the token's name.
/// </summary>
public static class AdminEndpoints
{
    public static readonly TimeSpan DefaultMaxLag = TimeSpan.FromMinutes(5);
    public static readonly TimeSpan DefaultStale = TimeSpan.FromMinutes(2);

    public static void MapAdminEndpoints(this IEndpointRouteBuilder app)
    {
        var read = app.MapGroup("/api/v1/admin").RequireAdminToken(AdminTokenStore.ReadScope);
        read.MapGet("/status", StatusAsync);
        read.MapGet("/secondaries/{name}", SecondaryAsync);
        read.MapGet("/requests/{id:long}", RequestProgressAsync);
        read.MapGet("/projects", ProjectAsync);
        read.MapGet("/secondaries/{name}/trash", TrashAsync);

        var act = app.MapGroup("/api/v1/admin").RequireAdminToken(AdminTokenStore.AdminScope);
        act.MapPost("/secondaries/{name}/backfill", (string name, HttpContext http, SecondaryStore store, CancellationToken ct) => RequestAsync(name, ReconcileKind.Backfill, http, store, ct));
        act.MapPost("/secondaries/{name}/verify", (string name, HttpContext http, SecondaryStore store, CancellationToken ct) => RequestAsync(name, ReconcileKind.Verify, http, store, ct));
        act.MapPost("/secondaries/{name}/resync/{projectId:long}", (string name, long projectId, HttpContext http, SecondaryStore store, CancellationToken ct) =>
            projectId > 0
                ? RequestAsync(name, ReconcileKind.Resync, http, store, ct, projectId)
                : Task.FromResult(Results.Problem(title: "Bad project id", detail: "a project id is a positive number", statusCode: StatusCodes.Status400BadRequest)));
        act.MapPost("/secondaries/{name}/trash-restore/{projectId:long}", (string name, long projectId, string? to, HttpContext http, SecondaryStore store, CancellationToken ct) =>
            projectId <= 0 ? Task.FromResult(BadProjectId())
            : to is not null && Core.Paths.ProjectPath.Problem(to) is { } problem
                ? Task.FromResult(Results.Problem(title: "Bad path", detail: $"'to' must be a project path: it {problem}", statusCode: StatusCodes.Status400BadRequest))
                : RequestAsync(name, SafetyNetKind.TrashRestore, http, store, ct, projectId, to));
        act.MapPost("/secondaries/{name}/trash-release/{projectId:long}", (string name, long projectId, HttpContext http, SecondaryStore store, CancellationToken ct) =>
            projectId > 0 ? RequestAsync(name, SafetyNetKind.TrashRelease, http, store, ct, projectId) : Task.FromResult(BadProjectId()));
        act.MapPost("/secondaries/{name}/attic-restore/{projectId:long}", (string name, long projectId, string? @ref, string? to, HttpContext http, SecondaryStore store, CancellationToken ct) =>
            projectId <= 0 ? Task.FromResult(BadProjectId())
            : !IsRefName(@ref) || !IsRefName(to) || !@ref!.StartsWith(Core.Repositories.RefsChecksum.AtticPrefix, StringComparison.Ordinal) || to!.StartsWith(Core.Repositories.RefsChecksum.AtticPrefix, StringComparison.Ordinal)
                ? Task.FromResult(Results.Problem(title: "Bad ref", detail: "'ref' must be an attic ref (refs/geo-attic/…) and 'to' a new ref name under refs/ outside the attic", statusCode: StatusCodes.Status400BadRequest))
                : RequestAsync(name, SafetyNetKind.AtticRestore, http, store, ct, projectId, $"{@ref} {to}"));
        act.MapPost("/secondaries/{name}/guard-release", (string name, HttpContext http, SecondaryStore store, CancellationToken ct) => RequestAsync(name, SafetyNetKind.GuardRelease, http, store, ct));
        act.MapPost("/secondaries/{name}/guard-discard", (string name, HttpContext http, SecondaryStore store, CancellationToken ct) => RequestAsync(name, SafetyNetKind.GuardDiscard, http, store, ct));

        app.MapAdminDeadLetterEndpoints();
        app.MapStatusPage();
    }

    /// <summary>Reads <c>maxLag</c> and <c>stale</c> (e.g. 10s, 5m); null and a problem when one does not parse.</summary>
    internal static (TimeSpan MaxLag, TimeSpan Stale, IResult? Problem) Limits(string? maxLag, string? stale)
    {
        try
        {
            return (maxLag is null ? DefaultMaxLag : Durations.Parse(maxLag), stale is null ? DefaultStale : Durations.Parse(stale), null);
        }
        catch (FormatException e)
        {
            return (default, default, Results.Problem(title: "Bad duration", detail: $"'maxLag' and 'stale' are durations such as 10s or 5m: {e.Message}", statusCode: StatusCodes.Status400BadRequest));
        }
    }

    internal static Task<(IReadOnlyList<SecondaryHealth> Secondaries, long PrimarySequence)> CollectAsync(
        IServiceProvider services, TimeSpan maxLag, TimeSpan stale, string? name, CancellationToken ct) =>
        SecondaryHealthCheck.CollectAsync(
            services.GetRequiredService<NpgsqlDataSource>(), services.GetRequiredService<IOptions<RabbitMqOptions>>().Value, maxLag, stale, name, ct);

    private static async Task<IResult> StatusAsync(string? maxLag, string? stale, HttpContext http, CancellationToken ct)
    {
        var (lag, silent, problem) = Limits(maxLag, stale);
        if (problem is not null)
        {
            return problem;
        }

        var (secondaries, sequence) = await CollectAsync(http.RequestServices, lag, silent, null, ct);
        return Results.Ok(new AdminStatus { Secondaries = secondaries, PrimarySequence = sequence });
    }

    private static async Task<IResult> SecondaryAsync(string name, string? maxLag, string? stale, HttpContext http, CancellationToken ct)
    {
        var (lag, silent, problem) = Limits(maxLag, stale);
        if (problem is not null)
        {
            return problem;
        }

        var (secondaries, _) = await CollectAsync(http.RequestServices, lag, silent, name, ct);
        return secondaries.SingleOrDefault() is { } health
            ? Results.Ok(health)
            : Results.Problem(title: "No such secondary", detail: $"no secondary named '{name}' is registered", statusCode: StatusCodes.Status404NotFound);
    }

    private static async Task<IResult> RequestProgressAsync(long id, SecondaryStore store, CancellationToken ct) =>
        Results.Ok(new AdminRequestProgress { RequestId = id, Progress = await store.RequestProgressAsync(id, ct) });

    private static async Task<IResult> ProjectAsync(string? path, Core.Outbox.EventLog eventLog, CancellationToken ct)
    {
        if (path is null || Core.Paths.ProjectPath.Problem(path) is not null)
        {
            return Results.Problem(title: "Bad path", detail: "'path' must be a project's path with namespace, e.g. group/project", statusCode: StatusCodes.Status400BadRequest);
        }

        return await eventLog.ProjectAtAsync(path, ct) is { } id
            ? Results.Ok(new AdminProject { Id = id, Path = path })
            : Results.Problem(title: "No such project", detail: $"geo-primary has seen no project at '{path}'", statusCode: StatusCodes.Status404NotFound);
    }

    /// <summary>A ref name under <c>refs/</c> git would accept: no space, control character or <c>..</c>, at most 1024 characters.</summary>
    internal static bool IsRefName(string? name) =>
        name is { Length: > 5 and <= 1024 } && name.StartsWith("refs/", StringComparison.Ordinal) && LibGit2Sharp.Reference.IsValidName(name);

    private static IResult BadProjectId() => Results.Problem(title: "Bad project id", detail: "a project id is a positive number", statusCode: StatusCodes.Status400BadRequest);

    /// <summary>The secondary's safety net as its last status report showed it: trash, restored mirrors, guard.</summary>
    private static async Task<IResult> TrashAsync(string name, SecondaryStore store, CancellationToken ct) =>
        (await store.RowsAsync(name, ct)).SingleOrDefault() is { } row
            ? Results.Ok(SecondaryStore.ReadStatus(row.Status)?.SafetyNet ?? new SafetyNetStatus())
            : Results.Problem(title: "No such secondary", detail: $"no secondary named '{name}' is registered", statusCode: StatusCodes.Status404NotFound);

    private static async Task<IResult> RequestAsync(string name, string kind, HttpContext http, SecondaryStore store, CancellationToken ct, long? projectId = null, string? argument = null)
    {
        var actor = AdminAuth.Actor(http);
        return await store.RequestAsync(name, kind, projectId, actor, ct, argument) is { } id
            ? Results.Accepted($"/api/v1/admin/secondaries/{name}", new AdminRequestAnswer { RequestId = id, RequestedBy = actor })
            : Results.Problem(title: "No such secondary", detail: $"no secondary named '{name}' is registered", statusCode: StatusCodes.Status404NotFound);
    }
}
