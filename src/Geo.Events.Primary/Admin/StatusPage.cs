using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using Geo.Events.Contracts.Api;
using Geo.Events.Core.Secondaries;

namespace Geo.Events.Primary.Admin;

/// <summary>
/// The status page, <c>/admin</c> (one row per secondary) and <c>/admin/secondaries/{name}</c>: server-rendered
/// HTML that refreshes itself every 5 s, behind an admin token of scope <c>read</c> (a browser asks for it with
/// HTTP Basic: any user name, the token as password; serve geo-primary over TLS in production). Every value is
/// HTML-encoded: names and reasons come from secondaries.
/// </summary>
public static class StatusPage
{
    private const int RefreshSeconds = 5;

    public static void MapStatusPage(this IEndpointRouteBuilder app)
    {
        var page = app.MapGroup("/admin").RequireAdminToken(AdminTokenStore.ReadScope, browser: true);
        page.MapGet("/", OverviewAsync);
        page.MapGet("/secondaries/{name}", SecondaryAsync);
        page.MapGet("/projects/{id:long}", ProjectAsync);
        page.MapGet("/projects", FindProjectAsync);
    }

    /// <summary>Asks each secondary's own <c>GET /api/v1/mirrors/{id}</c>; one that does not answer in time is shown as such.</summary>
    private static readonly HttpClient Secondaries = new() { Timeout = TimeSpan.FromSeconds(5) };

    private static async Task<IResult> ProjectAsync(
        long id, SecondaryStore store, Inventory.ProjectInventory inventory, Microsoft.Extensions.Options.IOptions<PrimaryOptions> options, CancellationToken ct)
    {
        var (project, _) = await inventory.GetAsync(id, ct);
        var html = new StringBuilder();
        html.Append("<p><a href=\"/admin\">all secondaries</a></p><table id=\"primary\">")
            .Append(CultureInfo.InvariantCulture, $"<tr><th>path on the primary</th><td>{E(project?.Path ?? "(unknown or destroyed)")}</td></tr>")
            .Append(CultureInfo.InvariantCulture, $"<tr><th>refs checksum on the primary</th><td class=\"checksum\">{E(project?.Checksum ?? "-")}</td></tr></table>")
            .Append("<table id=\"mirrors\"><thead><tr><th>secondary</th><th>state</th><th>same refs as the primary now</th><th>refs checksum</th>")
            .Append("<th>last sync</th><th>events pending</th><th>last error</th></tr></thead><tbody>");
        foreach (var row in await store.RowsAsync(null, ct))
        {
            html.Append(CultureInfo.InvariantCulture, $"<tr data-secondary=\"{E(row.Name)}\"><td>{E(row.Name)}</td>");
            if (row.Url is null)
            {
                html.Append("<td colspan=\"6\">registered without a URL (Secondary:PublicUrl): cannot ask it</td></tr>");
                continue;
            }

            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(new Uri(row.Url.TrimEnd('/') + "/"), $"api/v1/mirrors/{id}"));
                if (options.Value.MirrorApiToken.Length > 0)
                {
                    request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", options.Value.MirrorApiToken);
                }

                using var response = await Secondaries.SendAsync(request, ct);
                response.EnsureSuccessStatusCode();
                var mirror = await response.Content.ReadFromJsonAsync<MirrorFreshness>(ApiJson.Options, ct);
                html.Append(CultureInfo.InvariantCulture, $"<td class=\"state\">{E(mirror?.State)}</td>")
                    .Append(CultureInfo.InvariantCulture, $"<td class=\"uptodate\">{(mirror?.UpToDate == true ? "yes" : "no: " + E(mirror?.Detail))}</td>")
                    .Append(CultureInfo.InvariantCulture, $"<td class=\"checksum\">{E(mirror?.Checksum ?? "-")}</td>")
                    .Append(CultureInfo.InvariantCulture, $"<td class=\"lastsync\">{(mirror?.SecondsSinceLastSync is { } since ? SecondaryHealthCheck.Age(since) + " ago" : "never")}</td>")
                    .Append(CultureInfo.InvariantCulture, $"<td>{(mirror?.EventsPending == true ? "yes" : "no")}</td><td>{E(mirror?.LastError ?? "")}</td></tr>");
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException && !ct.IsCancellationRequested)
            {
                html.Append(CultureInfo.InvariantCulture, $"<td colspan=\"6\">cannot ask it: {E(e.Message)}</td></tr>");
            }
        }

        html.Append("</tbody></table>");
        return Page($"Geo.Events: project {id}", html.ToString());
    }

    /// <summary>The overview's "project" box: an id, or a path with namespace geo-primary has seen, leads to its page.</summary>
    private static async Task<IResult> FindProjectAsync(string? project, Core.Outbox.EventLog eventLog, CancellationToken ct)
    {
        project = project?.Trim();
        if (long.TryParse(project, NumberStyles.None, CultureInfo.InvariantCulture, out var id) && id > 0)
        {
            return Results.Redirect($"/admin/projects/{id}");
        }

        if (project is null || Core.Paths.ProjectPath.Problem(project) is not null)
        {
            return Results.Problem(title: "Bad project", detail: "give a project's id or its path with namespace, e.g. group/project", statusCode: StatusCodes.Status400BadRequest);
        }

        return await eventLog.ProjectAtAsync(project, ct) is { } found
            ? Results.Redirect($"/admin/projects/{found}")
            : Results.Problem(title: "No such project", detail: $"geo-primary has seen no project at '{project}'", statusCode: StatusCodes.Status404NotFound);
    }

    private static async Task<IResult> OverviewAsync(string? maxLag, string? stale, HttpContext http, CancellationToken ct)
    {
        var (lag, silent, problem) = AdminEndpoints.Limits(maxLag, stale);
        if (problem is not null)
        {
            return problem;
        }

        var (secondaries, sequence) = await AdminEndpoints.CollectAsync(http.RequestServices, lag, silent, null, ct);
        var html = new StringBuilder();
        html.Append("<table id=\"secondaries\"><thead><tr><th>secondary</th><th>state</th><th>oldest unapplied</th><th>unapplied</th>")
            .Append("<th>queued</th><th>synced</th><th>pending</th><th>failed</th><th>dead letters</th><th>last report</th><th>why</th></tr></thead><tbody>");
        foreach (var h in secondaries)
        {
            html.Append(CultureInfo.InvariantCulture, $"<tr class=\"{E(h.Verdict)}\" data-secondary=\"{E(h.Name)}\">")
                .Append(CultureInfo.InvariantCulture, $"<td><a href=\"/admin/secondaries/{Uri.EscapeDataString(h.Name)}\">{E(h.Name)}</a></td>")
                .Append(CultureInfo.InvariantCulture, $"<td class=\"verdict\">{E(h.Verdict)}</td>")
                .Append(CultureInfo.InvariantCulture, $"<td class=\"oldest\">{(h.OldestPendingSeconds is { } oldest ? SecondaryHealthCheck.Age(oldest) : "-")}</td>")
                .Append(CultureInfo.InvariantCulture, $"<td class=\"unapplied\">{h.Unapplied}</td><td>{(h.Queued is { } q ? q.ToString(CultureInfo.InvariantCulture) : "no queue")}</td>")
                .Append(CultureInfo.InvariantCulture, $"<td>{h.Synced}</td><td>{h.Pending}</td><td>{h.Failed}</td><td>{h.DeadLetters}</td>")
                .Append(CultureInfo.InvariantCulture, $"<td>{(h.HeartbeatAgeSeconds is { } age ? SecondaryHealthCheck.Age(age) + " ago" : "never")}</td><td>{E(h.Reason)}</td></tr>");
        }

        html.Append(CultureInfo.InvariantCulture, $"</tbody></table><form action=\"/admin/projects\" method=\"get\"><label>project (id or path) <input name=\"project\" required></label> <button>show</button></form>")
            .Append(CultureInfo.InvariantCulture, $"<p>primary at event {sequence}; behind when the oldest unapplied event is older than {E(Durations(lag))}, stale when silent for {E(Durations(silent))}</p>");
        return Page("Geo.Events status", html.ToString());
    }

    private static async Task<IResult> SecondaryAsync(string name, string? maxLag, string? stale, HttpContext http, SecondaryStore store, CancellationToken ct)
    {
        var (lag, silent, problem) = AdminEndpoints.Limits(maxLag, stale);
        if (problem is not null)
        {
            return problem;
        }

        var (secondaries, _) = await AdminEndpoints.CollectAsync(http.RequestServices, lag, silent, name, ct);
        if (secondaries.SingleOrDefault() is not { } h)
        {
            return Results.Problem(title: "No such secondary", detail: $"no secondary named '{name}' is registered", statusCode: StatusCodes.Status404NotFound);
        }

        var row = (await store.RowsAsync(name, ct)).Single();
        var status = SecondaryStore.ReadStatus(row.Status);
        var html = new StringBuilder();
        html.Append("<p><a href=\"/admin\">all secondaries</a></p><table id=\"secondary\">");
        void Line(string label, string value) => html.Append(CultureInfo.InvariantCulture, $"<tr><th>{E(label)}</th><td>{E(value)}</td></tr>");
        Line("state", h.Verdict + (h.Reason.Length > 0 ? $": {h.Reason}" : ""));
        Line("oldest unapplied event", h.OldestPendingSeconds is { } oldest ? SecondaryHealthCheck.Age(oldest) : "none waits");
        Line("unapplied events", h.Unapplied.ToString(CultureInfo.InvariantCulture));
        Line("applied through event", h.AppliedThrough.ToString(CultureInfo.InvariantCulture));
        Line("url", row.Url ?? "-");
        Line("namespaces", row.Namespaces.Length == 0 ? "(all)" : string.Join(", ", row.Namespaces));
        Line("last report", row.LastHeartbeatAt is { } at ? $"{at:u}" : "never");
        foreach (var (kind, counts) in new[] { ("projects", status?.Projects), ("wikis", status?.Wikis) })
        {
            Line(kind, counts is null ? "-" : $"{counts.Synced} synced, {counts.Pending} pending, {counts.Failed} failed");
        }

        Line("files", status?.Files is { } files ? string.Join(", ", files.Select(f => $"{f.Value} {f.Key}")) : "-");
        Line("keys", status?.Keys is { } keys ? $"{keys.Live} live, {keys.Destroyed} destroyed" : "-");
        Line("dead letters", h.DeadLetters.ToString(CultureInfo.InvariantCulture));
        html.Append("</table><h2>runs</h2><table><tr><th>kind</th><th>state</th><th>done</th><th>repaired</th><th>failed</th><th>started</th></tr>");
        foreach (var run in status?.Runs ?? [])
        {
            html.Append(CultureInfo.InvariantCulture, $"<tr><td>{E(run.Kind)}</td><td>{E(run.State)}</td><td>{run.Done}/{run.Total}</td><td>{run.Repaired}</td><td>{run.Failed}</td><td>{run.StartedAt:u}</td></tr>");
        }

        html.Append("</table>");
        return Page($"Geo.Events: {name}", html.ToString());
    }

    private const string Style =
        "body{font-family:sans-serif;margin:2em}form{margin:1em 0}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left}"
        + "tr.ok .verdict{color:#080}tr.behind .verdict,tr.stale .verdict,tr.failing .verdict,tr.broken .verdict,tr.unknown .verdict{color:#b00;font-weight:bold}";

    private static IResult Page(string title, string body) => Results.Content(
        $"""
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="{RefreshSeconds}">
        <title>{E(title)}</title><style>{Style}</style>
        </head><body><h1>{E(title)}</h1>
        {body}
        <p><small>refreshes every {RefreshSeconds} s</small></p></body></html>
        """, "text/html; charset=utf-8");

    private static string Durations(TimeSpan value) => Core.Messaging.Durations.Format(value);

    private static string E(string? text) => WebUtility.HtmlEncode(text ?? "");
}
