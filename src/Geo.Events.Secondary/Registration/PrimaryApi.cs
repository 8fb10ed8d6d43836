using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Geo.Events.Contracts;
using Geo.Events.Contracts.Api;
using Geo.Events.Core.Repositories;
using Microsoft.Extensions.Options;

namespace Geo.Events.Secondary.Registration;

/// <summary>
/// geo-primary's API as this secondary uses it (a typed HTTP client, Secondary:PrimaryUrl): registration with the
/// registration token, then status reports, the inventory and file downloads with its own access token. The bodies
/// are the records of <c>Geo.Events.Contracts.Api</c>, the ones geo-primary answers with.
/// </summary>
public sealed class PrimaryApi(HttpClient http, IOptions<SecondaryOptions> options, PrimaryAccess access)
{
    /// <summary>
    /// How long any call but a download may take. The client itself has no overall timeout, because a large file
    /// takes long to download; <see cref="Files.FileStore"/> stops a download that stalls instead.
    /// </summary>
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(30);

    private string Name => options.Value.Name;

    /// <summary>Registers this secondary; returns geo-primary's status code and body, whatever they are.</summary>
    public Task<(HttpStatusCode Status, string Body)> RegisterAsync(SecondaryRegistration registration, string registrationToken, CancellationToken cancellationToken) =>
        WithTimeoutAsync(async ct =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "api/v1/secondaries") { Content = JsonContent.Create(registration, options: ApiJson.Options) };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", registrationToken);
            using var response = await http.SendAsync(request, ct);
            return (response.StatusCode, await response.Content.ReadAsStringAsync(ct));
        }, cancellationToken);

    /// <summary>Sends a status report; returns the requests geo-admin left for this secondary.</summary>
    public Task<StatusAnswer> ReportAsync(SecondaryStatus status, CancellationToken cancellationToken) =>
        WithTimeoutAsync(async ct =>
        {
            using var request = Authorized(HttpMethod.Put, $"api/v1/secondaries/{Name}/status");
            request.Content = JsonContent.Create(status, options: ApiJson.Options);
            using var response = await http.SendAsync(request, ct);
            await EnsureAsync(response, "status report", ct);
            return await response.Content.ReadFromJsonAsync<StatusAnswer>(ApiJson.Options, ct) ?? new StatusAnswer { Requests = [] };
        }, cancellationToken);

    /// <summary>A page of the primary's repositories of <paramref name="kind"/> (a primary of the previous version lists projects only).</summary>
    public Task<InventoryPage> InventoryAsync(long after, int limit, CancellationToken cancellationToken, RepositoryKind kind = RepositoryKind.Project) =>
        WithTimeoutAsync(async ct =>
        {
            using var request = Authorized(HttpMethod.Get, $"api/v1/secondaries/{Name}/inventory/projects?after={after}&limit={limit}{KindQuery(kind, "&")}");
            using var response = await http.SendAsync(request, ct);
            await EnsureAsync(response, "inventory", ct);
            return (await response.Content.ReadFromJsonAsync<InventoryPage>(ApiJson.Options, ct))!;
        }, cancellationToken);

    private static string KindQuery(RepositoryKind kind, string separator) =>
        kind == RepositoryKind.Project ? "" : $"{separator}kind={RepositoryLayout.Label(kind)}";

    /// <summary>One project as the primary has it now; null when the primary has no such project.</summary>
    public Task<InventoryEntry?> ProjectAsync(long id, CancellationToken cancellationToken, RepositoryKind kind = RepositoryKind.Project) =>
        WithTimeoutAsync(async ct =>
        {
            using var request = Authorized(HttpMethod.Get, $"api/v1/secondaries/{Name}/inventory/projects/{id}{KindQuery(kind, "?")}");
            using var response = await http.SendAsync(request, ct);
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                return null;
            }

            await EnsureAsync(response, "inventory", ct);
            return await response.Content.ReadFromJsonAsync<InventoryEntry>(ApiJson.Options, ct);
        }, cancellationToken);

    /// <summary>
    /// Starts a download of a file from <paramref name="offset"/> on (a <c>Range</c> request when above zero);
    /// the caller reads the body as a stream and disposes the response. <paramref name="ifRange"/> is the ETag
    /// the first bytes came with, so a changed file is sent whole. No <see cref="RequestTimeout"/>: the caller
    /// limits the wait for each read.
    /// </summary>
    public async Task<HttpResponseMessage> DownloadAsync(Contracts.FileKind kind, string path, long offset, string? ifRange, CancellationToken cancellationToken)
    {
        var escaped = string.Join('/', path.Split('/').Select(Uri.EscapeDataString));
        using var request = Authorized(HttpMethod.Get, $"api/v1/secondaries/{Name}/files/{Core.Paths.FilePath.Name(kind)}/{escaped}");
        if (offset > 0)
        {
            request.Headers.Range = new RangeHeaderValue(offset, null);
            if (ifRange is not null)
            {
                request.Headers.IfRange = new RangeConditionHeaderValue(new EntityTagHeaderValue(ifRange));
            }
        }

        return await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
    }

    private HttpRequestMessage Authorized(HttpMethod method, string path)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", access.Token);
        return request;
    }

    /// <summary>
    /// Runs one call under <see cref="RequestTimeout"/>. A timeout surfaces as HttpClient's own does (a
    /// <see cref="TaskCanceledException"/> around a <see cref="TimeoutException"/>), so callers tell it from a stop.
    /// </summary>
    private static async Task<T> WithTimeoutAsync<T>(Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(RequestTimeout);
        try
        {
            return await call(timeout.Token);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TaskCanceledException($"geo-primary did not answer within {RequestTimeout.TotalSeconds:0} s", new TimeoutException(e.Message, e));
        }
    }

    private static async Task EnsureAsync(HttpResponseMessage response, string what, CancellationToken cancellationToken)
    {
        if (!response.IsSuccessStatusCode)
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            throw new HttpRequestException($"geo-primary answered {(int)response.StatusCode} to the {what}: {(body.Length > 300 ? body[..300] : body)}", null, response.StatusCode);
        }
    }
}
