using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Geo.Events.Contracts;
using Geo.Events.Contracts.Api;
using Geo.Events.Core.Messaging;
using Geo.Events.Core.Paths;
using Geo.Events.Core.Repositories;
using Geo.Events.Core.Secondaries;
using Geo.Events.Core.Security;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Geo.Events.Primary.Secondaries;

/// <summary>
/// The secondaries' API. <c>POST /api/v1/secondaries</c> registers one (bearer: the registration token);
/// <c>PUT /api/v1/secondaries/{name}/status</c> is its heartbeat (bearer: its own access token).
/// </summary>
public static class SecondaryEndpoints
{
    public const int MaxStatusBytes = 64 * 1024;
    private const int MinTokenLength = 32;
    private const int MaxTokenLength = 256;
    private const int MaxNamespaces = 1000;

    public static void MapSecondaryEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/v1/secondaries", RegisterAsync);
        app.MapPut("/api/v1/secondaries/{name}/status", ReportAsync);
        app.MapGet("/api/v1/secondaries/{name}/inventory/projects", InventoryAsync);
        app.MapGet("/api/v1/secondaries/{name}/inventory/projects/{id:long}", InventoryProjectAsync);
    }

    public const int MaxInventoryPage = 1000;

    /// <summary>A page of the primary's projects (in the secondary's namespaces) with refs checksums; <c>next</c> is the cursor.</summary>
    private static async Task<IResult> InventoryAsync(
        string name, HttpRequest request, SecondaryStore store, Inventory.ProjectInventory inventory, long? after, int? limit, string? kind, CancellationToken cancellationToken)
    {
        if (!await AuthenticatedAsync(name, request, store, cancellationToken))
        {
            return WrongToken(name);
        }

        if (after is < 0 || limit is < 1 or > MaxInventoryPage)
        {
            return Problem(StatusCodes.Status400BadRequest, "Bad paging", $"'after' must be ≥ 0 and 'limit' 1-{MaxInventoryPage}");
        }

        if (InventoryKind(kind) is not { } repositoryKind)
        {
            return BadKind(kind);
        }

        var namespaces = await store.NamespacesAsync(name, cancellationToken);
        return Results.Ok(await inventory.PageAsync(after ?? 0, limit ?? 200, namespaces, cancellationToken, repositoryKind));
    }

    private static async Task<IResult> InventoryProjectAsync(
        string name, long id, HttpRequest request, SecondaryStore store, Inventory.ProjectInventory inventory, string? kind, CancellationToken cancellationToken)
    {
        if (!await AuthenticatedAsync(name, request, store, cancellationToken))
        {
            return WrongToken(name);
        }

        if (InventoryKind(kind) is not { } repositoryKind)
        {
            return BadKind(kind);
        }

        var (project, sequence) = await inventory.GetAsync(id, cancellationToken, repositoryKind);
        return project is null
            ? Problem(StatusCodes.Status404NotFound, "No such project", $"the primary has no {RepositoryLayout.Label(repositoryKind)} {id} (never seen, or destroyed)")
            : Results.Ok(new InventoryEntry { Project = project, Sequence = sequence });
    }

    /// <summary>The inventory's <c>kind</c>: a repository kind's name (project, wiki, design, snippet, group_wiki), project when absent.</summary>
    private static RepositoryKind? InventoryKind(string? kind) => kind is null ? RepositoryKind.Project : RepositoryLayout.FromLabel(kind);

    private static IResult BadKind(string? kind) => Problem(StatusCodes.Status400BadRequest, "Bad kind",
        $"'kind' must be one of {string.Join(", ", RepositoryLayout.All.Select(RepositoryLayout.Label))}, not '{kind}'");

    /// <summary>True when the request carries <paramref name="name"/>'s access token as its bearer token (every secondary endpoint).</summary>
    internal static async Task<bool> AuthenticatedAsync(string name, HttpRequest request, SecondaryStore store, CancellationToken cancellationToken) =>
        Bearer(request) is { } presented && await store.MatchesAsync(name, presented, cancellationToken);

    internal static IResult WrongToken(string name) =>
        Problem(StatusCodes.Status401Unauthorized, "Wrong token", $"send secondary '{name}'s access token as 'Authorization: Bearer <token>'");

    private static async Task<IResult> RegisterAsync(
        HttpRequest request, SecondaryStore store, SecondaryQueues queues, IOptions<PrimaryOptions> options,
        ILogger<SecondaryStore> logger, CancellationToken cancellationToken)
    {
        var expected = options.Value.RegistrationTokenSha256.Trim();
        if (expected.Length == 0)
        {
            return Problem(StatusCodes.Status403Forbidden, "Registration disabled", "geo-primary has no registration token configured (Primary:RegistrationTokenSha256)");
        }

        if (Bearer(request) is not { } presented)
        {
            return Problem(StatusCodes.Status401Unauthorized, "Missing token", "send the registration token as 'Authorization: Bearer <token>'");
        }

        if (!Secrets.Matches(presented, expected))
        {
            return Problem(StatusCodes.Status401Unauthorized, "Wrong token", "the bearer token is not geo-primary's registration token");
        }

        if (request.ContentLength is > MaxStatusBytes)
        {
            return Problem(StatusCodes.Status413PayloadTooLarge, "Body too large", $"a registration is limited to {MaxStatusBytes} bytes");
        }

        SecondaryRegistration? registration;
        try
        {
            registration = await request.ReadFromJsonAsync<SecondaryRegistration>(JsonOptions, cancellationToken);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or BadHttpRequestException)
        {
            return Problem(StatusCodes.Status400BadRequest, "Malformed JSON", $"the body must be a JSON object with 'name' and optional 'url', 'namespaces', 'token': {e.Message}");
        }

        var problems = Validate(registration);
        if (problems.Count > 0)
        {
            return Results.ValidationProblem(problems, statusCode: StatusCodes.Status422UnprocessableEntity, title: "Invalid registration",
                detail: string.Join("; ", problems.Values.SelectMany(v => v)));
        }

        var name = registration!.Name!;
        var token = registration.Token ?? NewToken();
        try
        {
            // The queue first: from the moment the secondary is told it is registered, its events are kept.
            await queues.AddAsync(name, cancellationToken);
            var outcome = await store.RegisterAsync(name, registration.Url, registration.Namespaces ?? [], token, cancellationToken);
            switch (outcome)
            {
                case SecondaryStore.Outcome.NameTaken:
                    return Problem(StatusCodes.Status409Conflict, "Name taken", $"a secondary named '{name}' is registered with another token; remove it first (geo-admin secondaries remove {name})");
                case SecondaryStore.Outcome.AlreadyRegistered:
                    return Results.Ok(new RegistrationAnswer { Name = name, Queue = GeoTopology.QueueName(name), Registered = false });
                default:
                    logger.LogInformation("Registered secondary {Name}", name);
                    // The token is in the answer only when geo-primary made it: it is never shown again.
                    return Results.Created($"/api/v1/secondaries/{name}", new RegistrationAnswer { Name = name, Queue = GeoTopology.QueueName(name), Registered = true, Token = registration.Token is null ? token : null });
            }
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or RabbitMQ.Client.Exceptions.BrokerUnreachableException or RabbitMQ.Client.Exceptions.OperationInterruptedException)
        {
            logger.LogError("Could not register secondary {Name}: {Error}", name, e.Message);
            return Problem(StatusCodes.Status503ServiceUnavailable, "Unavailable", "PostgreSQL or RabbitMQ could not be reached; nothing was registered, try again");
        }
    }

    private static async Task<IResult> ReportAsync(string name, HttpRequest request, SecondaryStore store, CancellationToken cancellationToken)
    {
        if (!await AuthenticatedAsync(name, request, store, cancellationToken))
        {
            return WrongToken(name);
        }

        if (request.ContentLength is > MaxStatusBytes)
        {
            return Problem(StatusCodes.Status413PayloadTooLarge, "Body too large", $"a status report is limited to {MaxStatusBytes} bytes");
        }

        JsonNode? status;
        try
        {
            status = await JsonNode.ParseAsync(request.Body, cancellationToken: cancellationToken);
        }
        catch (JsonException e)
        {
            return Problem(StatusCodes.Status400BadRequest, "Malformed JSON", e.Message);
        }

        if (status is not JsonObject)
        {
            return Problem(StatusCodes.Status400BadRequest, "Malformed JSON", "the status must be a JSON object");
        }

        var json = status.ToJsonString();
        if (json.Length > MaxStatusBytes)
        {
            return Problem(StatusCodes.Status413PayloadTooLarge, "Body too large", $"a status report is limited to {MaxStatusBytes} bytes");
        }

        SecondaryStatus report;
        try
        {
            // Read once here, typed: what geo-admin later reads back from the stored report is known to fit.
            report = status.Deserialize<SecondaryStatus>(ApiJson.Options)!;
        }
        catch (JsonException e)
        {
            return Problem(StatusCodes.Status400BadRequest, "Malformed status", e.Message);
        }

        // The answer carries the work geo-admin asked of this secondary and it has not finished yet.
        return Results.Ok(await store.ReportAsync(name, json, report, cancellationToken));
    }

    private static Dictionary<string, string[]> Validate(SecondaryRegistration? registration)
    {
        var problems = new Dictionary<string, string[]>();
        if (registration is null)
        {
            problems["body"] = ["the body must be a JSON object"];
            return problems;
        }

        if (GeoTopology.SecondaryNameProblem(registration.Name) is { } nameProblem)
        {
            problems["name"] = [nameProblem];
        }

        if (registration.Url is not null
            && !(Uri.TryCreate(registration.Url, UriKind.Absolute, out var url) && url.Scheme is "http" or "https" && registration.Url.Length <= 2048))
        {
            problems["url"] = ["'url' must be an absolute http(s) URL of at most 2048 characters"];
        }

        var namespaces = registration.Namespaces ?? [];
        var bad = namespaces.Select(ns => (ns, problem: ProjectPath.NamespaceProblem(ns))).Where(p => p.problem is not null).ToList();
        if (namespaces.Length > MaxNamespaces)
        {
            problems["namespaces"] = [$"at most {MaxNamespaces} namespaces"];
        }
        else if (bad.Count > 0)
        {
            problems["namespaces"] = bad.Select(b => $"namespace '{Printable(b.ns)}' {b.problem}").ToArray();
        }

        if (registration.Token is { } token && (token.Length < MinTokenLength || token.Length > MaxTokenLength || token.Any(c => c <= ' ' || c >= '\x7f')))
        {
            problems["token"] = [$"'token' must be {MinTokenLength}-{MaxTokenLength} printable ASCII characters without spaces"];
        }

        return problems;
    }

    private static readonly JsonSerializerOptions JsonOptions = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase, MaxDepth = 8 };

    private static string? Bearer(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        return header.StartsWith("Bearer ", StringComparison.Ordinal) && header.Length > 7 ? header[7..].Trim() : null;
    }

    private static string NewToken() => Secrets.NewToken();

    private static string Printable(string? value) => value is null ? "" : new string(value.Take(64).Select(c => char.IsControl(c) ? '?' : c).ToArray());

    private static IResult Problem(int status, string title, string detail) => Results.Problem(title: title, detail: detail, statusCode: status);
}
