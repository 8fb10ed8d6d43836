using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Geo.Events.Contracts.Api;
using Geo.Events.Core.DeadLetters;
using Geo.Events.Core.Messaging;

namespace Geo.Events.Admin;

/// <summary>
/// geo-primary's admin API (<c>/api/v1/admin/…</c>), used instead of its database and the broker when geo-admin is
/// given <c>--url</c> or <c>GEO_ADMIN_URL</c>, with the admin token in <c>GEO_ADMIN_TOKEN</c>.
/// </summary>
public sealed class AdminApi(HttpClient http) : IDisposable
{
    public static AdminApi Create(string url, string? token)
    {
        if (!Uri.TryCreate(url.TrimEnd('/') + "/", UriKind.Absolute, out var baseUrl) || baseUrl.Scheme is not ("http" or "https"))
        {
            throw new UsageException($"--url / GEO_ADMIN_URL must be geo-primary's absolute http(s) URL, not '{url}'");
        }

        if (string.IsNullOrWhiteSpace(token))
        {
            throw new UsageException("GEO_ADMIN_TOKEN is not set: create a token with 'geo-primary admin-token create --scope read --name <name>'");
        }

        var http = new HttpClient { BaseAddress = baseUrl, Timeout = TimeSpan.FromMinutes(10) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token.Trim());
        return new AdminApi(http);
    }

    public async Task<(IReadOnlyList<SecondaryHealth> Secondaries, long PrimarySequence)> StatusAsync(TimeSpan maxLag, TimeSpan stale, CancellationToken ct)
    {
        using var response = await http.GetAsync($"api/v1/admin/status?maxLag={Uri.EscapeDataString(Durations.Format(maxLag))}&stale={Uri.EscapeDataString(Durations.Format(stale))}", ct);
        await EnsureAsync(response, ct);
        var status = await response.Content.ReadFromJsonAsync<AdminStatus>(ApiJson.Options, ct)
            ?? throw new HttpRequestException("geo-primary answered an empty status");
        return (status.Secondaries, status.PrimarySequence);
    }

    /// <summary>Leaves a backfill, verify or resync request; null when there is no such secondary.</summary>
    /// <param name="argument">A safety-net request's argument: <c>to</c> for a trash restore, <c>&lt;ref&gt; &lt;to&gt;</c> for an attic restore.</param>
    public async Task<long?> RequestAsync(string name, string kind, long? projectId, CancellationToken ct, string? argument = null)
    {
        var query = argument is null ? ""
            : kind == SafetyNetKind.AtticRestore && argument.Split(' ') is [var atticRef, var to] ? $"?ref={Uri.EscapeDataString(atticRef)}&to={Uri.EscapeDataString(to)}"
            : $"?to={Uri.EscapeDataString(argument)}";
        var path = $"api/v1/admin/secondaries/{Uri.EscapeDataString(name)}/{kind}" + (projectId is { } id ? $"/{id}" : "") + query;
        using var response = await http.PostAsync(path, null, ct);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        await EnsureAsync(response, ct);
        return (await response.Content.ReadFromJsonAsync<AdminRequestAnswer>(ApiJson.Options, ct))?.RequestId;
    }

    /// <summary>The secondary's safety net as its last report showed it; null when there is no such secondary.</summary>
    public async Task<SafetyNetStatus?> SafetyNetAsync(string name, CancellationToken ct)
    {
        using var response = await http.GetAsync($"api/v1/admin/secondaries/{Uri.EscapeDataString(name)}/trash", ct);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        await EnsureAsync(response, ct);
        return await response.Content.ReadFromJsonAsync<SafetyNetStatus>(ApiJson.Options, ct);
    }

    public async Task<ReconcileRunStatus?> RequestProgressAsync(long request, CancellationToken ct)
    {
        using var response = await http.GetAsync($"api/v1/admin/requests/{request}", ct);
        await EnsureAsync(response, ct);
        return (await response.Content.ReadFromJsonAsync<AdminRequestProgress>(ApiJson.Options, ct))?.Progress;
    }

    /// <summary>The project whose latest event names <paramref name="path"/>; null when geo-primary has seen none.</summary>
    public async Task<long?> ProjectAtAsync(string path, CancellationToken ct)
    {
        using var response = await http.GetAsync($"api/v1/admin/projects?path={Uri.EscapeDataString(path)}", ct);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        await EnsureAsync(response, ct);
        return (await response.Content.ReadFromJsonAsync<AdminProject>(ApiJson.Options, ct))?.Id;
    }

    public async Task<IReadOnlyList<StoredDeadLetter>> DeadLettersAsync(DeadLetterFilter filter, CancellationToken ct)
    {
        var query = new List<string>();
        void Add(string name, string? value)
        {
            if (value is not null)
            {
                query.Add($"{name}={Uri.EscapeDataString(value)}");
            }
        }

        Add("secondary", filter.Secondary);
        Add("type", filter.MessageType);
        Add("project", filter.Project);
        Add("exception", filter.Exception);
        Add("group", filter.Group);
        Add("since", filter.Since?.ToString("o", CultureInfo.InvariantCulture));
        Add("state", filter.State ?? "all");
        return await GetAsync<List<StoredDeadLetter>>("api/v1/admin/dead-letters?" + string.Join('&', query), ct) ?? [];
    }

    /// <summary>Null when there is no such dead letter.</summary>
    public Task<StoredDeadLetter?> DeadLetterAsync(long id, CancellationToken ct) => GetAsync<StoredDeadLetter>($"api/v1/admin/dead-letters/{id}", ct);

    public async Task<IReadOnlyList<DeadLetterBatch>> DeadLetterHistoryAsync(int limit, CancellationToken ct) =>
        await GetAsync<List<DeadLetterBatch>>($"api/v1/admin/dead-letters/history?limit={limit}", ct) ?? [];

    /// <summary>Replays, deletes (<c>delete</c>) or restores on geo-primary, recorded under the token's name.</summary>
    public async Task<DeadLetterOutcome> DeadLetterActionAsync(string verb, DeadLetterFilter filter, bool all, bool dryRun, bool force, CancellationToken ct)
    {
        var selection = new DeadLetterSelection
        {
            Ids = filter.Ids,
            Secondary = filter.Secondary,
            Type = filter.MessageType,
            Project = filter.Project,
            Exception = filter.Exception,
            Group = filter.Group,
            Since = filter.Since,
            All = all,
            DryRun = dryRun,
            Force = force,
        };
        using var response = await http.PostAsJsonAsync($"api/v1/admin/dead-letters/{verb}", selection, ApiJson.Options, ct);
        await EnsureAsync(response, ct);
        return await response.Content.ReadFromJsonAsync<DeadLetterOutcome>(ApiJson.Options, ct)
            ?? throw new HttpRequestException($"geo-primary answered an empty {verb}");
    }

    public async Task<IReadOnlyList<RegisteredSecondary>> SecondariesAsync(CancellationToken ct) =>
        await GetAsync<List<RegisteredSecondary>>("api/v1/admin/secondaries", ct) ?? [];

    /// <summary>Null when no secondary of that name is registered.</summary>
    public Task<RegisteredSecondary?> SecondaryAsync(string name, CancellationToken ct) =>
        GetAsync<RegisteredSecondary>($"api/v1/admin/secondaries/{Uri.EscapeDataString(name)}/registration", ct);

    /// <summary>Null when no secondary of that name is registered.</summary>
    public async Task<RemovedSecondary?> RemoveSecondaryAsync(string name, CancellationToken ct)
    {
        using var response = await http.DeleteAsync($"api/v1/admin/secondaries/{Uri.EscapeDataString(name)}", ct);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        await EnsureAsync(response, ct);
        return await response.Content.ReadFromJsonAsync<RemovedSecondary>(ApiJson.Options, ct);
    }

    public async Task<IReadOnlyList<Core.Outbox.EventLog.Recorded>> EventsAsync(int limit, long? project, CancellationToken ct) =>
        await GetAsync<List<Core.Outbox.EventLog.Recorded>>($"api/v1/admin/events?limit={limit}" + (project is { } id ? $"&project={id}" : ""), ct) ?? [];

    /// <summary>The answer, or null on 404.</summary>
    private async Task<T?> GetAsync<T>(string path, CancellationToken ct)
        where T : class
    {
        using var response = await http.GetAsync(path, ct);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        await EnsureAsync(response, ct);
        return await response.Content.ReadFromJsonAsync<T>(ApiJson.Options, ct);
    }

    private static async Task EnsureAsync(HttpResponseMessage response, CancellationToken ct)
    {
        if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
        {
            throw new AdminApiRefusedException($"geo-primary refused the admin token ({(int)response.StatusCode}): {await response.Content.ReadAsStringAsync(ct)}");
        }

        if (response.StatusCode == HttpStatusCode.BadRequest)
        {
            // geo-primary refused the input with a problem: the same mistake as a bad command line.
            var problem = await response.Content.ReadFromJsonAsync<Problem>(ApiJson.Options, ct);
            throw new UsageException(problem?.Detail ?? problem?.Title ?? "geo-primary refused the request (400)");
        }

        response.EnsureSuccessStatusCode();
    }

    public void Dispose() => http.Dispose();

    /// <summary>The parts of an RFC 9457 problem answer geo-admin prints.</summary>
    private sealed record Problem(string? Title, string? Detail);
}

/// <summary>geo-primary answered 401 (no such token) or 403 (the token's scope does not allow this).</summary>
public sealed class AdminApiRefusedException(string message) : Exception(message);
