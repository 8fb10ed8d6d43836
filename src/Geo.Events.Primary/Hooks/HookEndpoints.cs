using System.Text.Json;
using FluentValidation;
using Geo.Events.Contracts;
using Geo.Events.Contracts.Api;
using Geo.Events.Core.Observability;
using Geo.Events.Core.Outbox;
using Geo.Events.Primary.Outbox;
using Npgsql;

namespace Geo.Events.Primary.Hooks;

/// <summary>
/// <c>POST /hooks/system</c>: where GitLab's system hooks (Admin Area → System hooks) and project webhooks
/// land. Every answer a client can act on: 401 bad token, 413 too large, 400 not JSON, 422 not a valid
/// event, 503 event store down (GitLab logs it), 202 recorded, 200 a GitLab event we do not replicate.
/// </summary>
public static class HookEndpoints
{
    public const string TokenHeader = "X-Gitlab-Token";
    public const string EventUuidHeader = "X-Gitlab-Event-UUID";
    public const string IdempotencyKeyHeader = "Idempotency-Key";
    public const string InstanceHeader = "X-Gitlab-Instance";
    public const string EventHeader = "X-Gitlab-Event";
    private const int MaxDeliveryIdLength = 200;

    public static void MapHookEndpoints(this IEndpointRouteBuilder app) =>
        app.MapPost("/hooks/system", ReceiveAsync).AddEndpointFilter(async (context, next) =>
        {
            var result = await next(context);
            var status = result is IStatusCodeHttpResult { StatusCode: { } code } ? code : context.HttpContext.Response.StatusCode;
            GeoMetrics.HooksReceived.WithLabels(status.ToString(System.Globalization.CultureInfo.InvariantCulture)).Inc();
            return result;
        });

    private static async Task<IResult> ReceiveAsync(
        HttpRequest request,
        HookToken token,
        IValidator<SystemHookPayload> validator,
        StoredPaths storedPaths,
        IngestQueue ingest,
        OutboxSignal signal,
        Microsoft.Extensions.Options.IOptions<PrimaryOptions> options,
        ILogger<SystemHookPayload> logger,
        CancellationToken cancellationToken)
    {
        if (!request.Headers.TryGetValue(TokenHeader, out var presented) || string.IsNullOrEmpty(presented))
        {
            return Problem(StatusCodes.Status401Unauthorized, "Missing token", $"send the hook's secret token in the {TokenHeader} header");
        }

        if (!token.Matches(presented.ToString()))
        {
            return Problem(StatusCodes.Status401Unauthorized, "Wrong token", $"{TokenHeader} does not match the token geo-primary is configured with");
        }

        var idempotencyKey = Header(request, IdempotencyKeyHeader);
        var eventUuid = Header(request, EventUuidHeader);
        foreach (var id in new[] { idempotencyKey, eventUuid })
        {
            if (id is { Length: > MaxDeliveryIdLength } || (id is not null && id.Any(char.IsControl)))
            {
                return Problem(StatusCodes.Status400BadRequest, "Bad delivery id", $"{IdempotencyKeyHeader}/{EventUuidHeader} must be at most {MaxDeliveryIdLength} printable characters");
            }
        }

        var limit = options.Value.MaxBodyBytes;
        // Kestrel's own cap (30 MB by default) must not refuse what Primary:MaxBodyBytes allows; this method enforces the
        // limit. It is only ever raised: under its cap, Kestrel drains a refused body, so the client reads our 413.
        if (request.HttpContext.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodySize
            && bodySize.MaxRequestBodySize < limit + 1)
        {
            bodySize.MaxRequestBodySize = limit + 1;
        }

        var body = await ReadBodyAsync(request, limit, cancellationToken);
        if (body is null)
        {
            return Problem(StatusCodes.Status413PayloadTooLarge, "Body too large", $"hook bodies are limited to {limit} bytes (Primary:MaxBodyBytes)");
        }

        // The kind first, from the body's top level alone: only a kind we replicate is parsed strictly. Anything
        // else, whatever its shape (merge_request's object 'changes', a kind newer than this version), is
        // acknowledged, because GitLab never retries a hook and may disable one that keeps failing.
        string? kind;
        try
        {
            kind = HookKinds.KindOf(body);
        }
        catch (JsonException e)
        {
            return Problem(StatusCodes.Status400BadRequest, "Malformed JSON", $"the body is not a JSON object geo-primary can read: {e.Message}");
        }

        if (kind is null)
        {
            return Problem(StatusCodes.Status422UnprocessableEntity, "Unknown event", "the payload has neither 'event_name' nor 'object_kind'");
        }

        if (!HookKinds.IsEventName(kind))
        {
            return Problem(StatusCodes.Status422UnprocessableEntity, "Unknown event",
                $"'{Truncate(kind)}' is not an event name: GitLab names its events in lowercase letters, digits and '_' (at most {HookKinds.MaxNameLength})");
        }

        if (!HookKinds.Replicated.TryGetValue(kind, out var hookKind))
        {
            var documented = HookKinds.Ignored.Contains(kind);
            if (!documented)
            {
                logger.LogInformation("Acknowledged a {Kind} hook, a kind this version does not know", kind);
            }

            return Results.Ok(new HookIgnored(kind, documented
                ? $"'{kind}' events are not replicated by this version of Geo.Events"
                : $"'{kind}' is not a GitLab event this version of Geo.Events knows; it is acknowledged and not replicated"));
        }

        SystemHookPayload? payload;
        try
        {
            payload = JsonSerializer.Deserialize<SystemHookPayload>(body, SystemHookPayload.JsonOptions);
        }
        catch (JsonException e)
        {
            return Problem(StatusCodes.Status400BadRequest, "Malformed JSON", $"the {kind} payload does not have the shape GitLab documents: {e.Message}");
        }

        if (payload is null)
        {
            return Problem(StatusCodes.Status400BadRequest, "Malformed JSON", "the body must be a JSON object");
        }

        if (TestSamples.IsSample(payload))
        {
            logger.LogInformation("Acknowledged GitLab's {Kind} Test sample without recording it", kind);
            return Results.Ok(new HookIgnored(kind, $"GitLab's Test sample data for {kind} events: the hook works; sample data is never replicated", Test: true));
        }

        var validation = await validator.ValidateAsync(payload, cancellationToken);
        if (!validation.IsValid)
        {
            var errors = validation.Errors
                .GroupBy(e => e.PropertyName)
                .ToDictionary(g => g.Key, g => g.Select(e => e.ErrorMessage).Distinct().ToArray());
            return Results.ValidationProblem(errors, statusCode: StatusCodes.Status422UnprocessableEntity, title: $"Invalid {kind} event",
                detail: string.Join("; ", validation.Errors.Select(e => e.ErrorMessage).Distinct()));
        }

        var (evt, replacedPath) = storedPaths.Reconcile(hookKind.Map(payload, new EventStamp(Guid.CreateVersion7(), DateTimeOffset.UtcNow)));
        EventLog.Appended appended;
        try
        {
            appended = await ingest.AppendAsync(EventLog.NewRow.Of(evt, DeliveryId(evt, idempotencyKey, eventUuid), Origin(request)), cancellationToken);
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            logger.LogError("Could not record a {Kind} event: {Error}", kind, e.Message);
            return Problem(StatusCodes.Status503ServiceUnavailable, "Event store unavailable",
                "geo-primary could not record the event in PostgreSQL; it was not accepted, send it again later");
        }

        if (!appended.Duplicate)
        {
            StageTrace.Committed(appended.Sequence, evt.OccurredAt);
            signal.Notify();
            GeoMetrics.EventsIngested.WithLabels(evt.GetType().Name).Inc();
            logger.LogInformation("Recorded {Kind} as event {Sequence}", kind, appended.Sequence);
        }

        return Results.Accepted(value: replacedPath is null
            ? new HookRecorded(appended.Sequence, appended.EventId, appended.Duplicate)
            : new HookRecorded(appended.Sequence, appended.EventId, appended.Duplicate, ((RepositoryChanged)evt).PathWithNamespace,
                $"GitLab's storage has project {((RepositoryChanged)evt).ProjectId} at this path, not at '{replacedPath}': recorded under its path"));
    }

    /// <summary>
    /// The id that makes a repeated delivery a duplicate. GitLab 17.4+ sends <c>Idempotency-Key</c>, the same on every
    /// retry and on an admin's "Resend request", with a new <c>X-Gitlab-Event-UUID</c> each time; 14.8 to 17.3 send only
    /// the UUID; older versions neither (then every delivery is recorded). A resend is how an admin forces a resync, so
    /// for a repository sync the key and the UUID together make the id: the very same request again is a duplicate, a
    /// resend records a new sync (harmless: a sync converges to the primary's current refs). For everything else (keys,
    /// renames, destroys) the key alone: a resent key_create must not bring back a key destroyed since, nor a resent
    /// rename move a project back.
    /// </summary>
    private static string? DeliveryId(Contracts.IGeoEvent evt, string? idempotencyKey, string? eventUuid) =>
        evt is RepositoryChanged && idempotencyKey is not null && eventUuid is not null
            ? $"{idempotencyKey} {eventUuid}"
            : idempotencyKey ?? eventUuid;

    /// <summary>Where the hook came from, for geo-admin events: X-Gitlab-Instance (GitLab 15.x+) and X-Gitlab-Event.</summary>
    private static EventLog.Origin Origin(HttpRequest request) =>
        new(Printable(Header(request, InstanceHeader)) ?? "hook", Printable(Header(request, EventHeader)));

    private static string? Header(HttpRequest request, string name)
    {
        var value = request.Headers[name].ToString();
        return string.IsNullOrEmpty(value) ? null : value;
    }

    /// <summary>A header kept for display only: at most 200 characters of printable ASCII.</summary>
    private static string? Printable(string? value) =>
        value is null ? null : new string(value.Take(MaxDeliveryIdLength).Select(c => c is >= ' ' and <= '~' ? c : '?').ToArray());

    private static async Task<byte[]?> ReadBodyAsync(HttpRequest request, long limit, CancellationToken cancellationToken)
    {
        if (request.ContentLength > limit)
        {
            return null;
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > limit)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }

    private static IResult Problem(int status, string title, string detail) =>
        Results.Problem(title: title, detail: detail, statusCode: status);

    private static string Truncate(string value) => value.Length > 64 ? value[..64] + "…" : value;
}
