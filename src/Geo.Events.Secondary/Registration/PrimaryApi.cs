using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace Geo.Events.Secondary.Registration;

/// <summary>geo-primary's API as this secondary uses it once registered: status reports and the inventory, with its own token.</summary>
public sealed class PrimaryApi(HttpClient http, HttpClient downloads, string name, string token)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public sealed record InventoryProject(long Id, string Path, string? Checksum);

    public sealed record InventoryPage(IReadOnlyList<InventoryProject> Projects, long? Next, long Sequence, int Total, int Unidentified);

    public sealed record Request(long Id, string Kind, long? ProjectId);

    private sealed record ReportAnswer(IReadOnlyList<Request> Requests);

    private sealed record ProjectAnswer(InventoryProject Project, long Sequence);

    /// <summary>Sends a status report; returns the requests geo-admin left for this secondary.</summary>
    public async Task<IReadOnlyList<Request>> ReportAsync(object status, CancellationToken cancellationToken)
    {
        using var request = Authorized(HttpMethod.Put, $"api/v1/secondaries/{name}/status");
        request.Content = JsonContent.Create(status, options: Json);
        using var response = await http.SendAsync(request, cancellationToken);
        await EnsureAsync(response, "status report", cancellationToken);
        return (await response.Content.ReadFromJsonAsync<ReportAnswer>(Json, cancellationToken))?.Requests ?? [];
    }

    public async Task<InventoryPage> InventoryAsync(long after, int limit, CancellationToken cancellationToken)
    {
        using var request = Authorized(HttpMethod.Get, $"api/v1/secondaries/{name}/inventory/projects?after={after}&limit={limit}");
        using var response = await http.SendAsync(request, cancellationToken);
        await EnsureAsync(response, "inventory", cancellationToken);
        return (await response.Content.ReadFromJsonAsync<InventoryPage>(Json, cancellationToken))!;
    }

    /// <summary>One project as the primary has it now; null when the primary has no such project.</summary>
    public async Task<(InventoryProject Project, long Sequence)?> ProjectAsync(long id, CancellationToken cancellationToken)
    {
        using var request = Authorized(HttpMethod.Get, $"api/v1/secondaries/{name}/inventory/projects/{id}");
        using var response = await http.SendAsync(request, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        await EnsureAsync(response, "inventory", cancellationToken);
        var answer = (await response.Content.ReadFromJsonAsync<ProjectAnswer>(Json, cancellationToken))!;
        return (answer.Project, answer.Sequence);
    }

    /// <summary>
    /// Starts a download of a file from <paramref name="offset"/> on (a <c>Range</c> request when above zero);
    /// the caller reads the body as a stream and disposes the response. <paramref name="ifRange"/> is the ETag
    /// the first bytes came with, so a changed file is sent whole.
    /// </summary>
    public async Task<HttpResponseMessage> DownloadAsync(Contracts.FileKind kind, string path, long offset, string? ifRange, CancellationToken cancellationToken)
    {
        var escaped = string.Join('/', path.Split('/').Select(Uri.EscapeDataString));
        using var request = Authorized(HttpMethod.Get, $"api/v1/secondaries/{name}/files/{Core.Paths.FilePath.Name(kind)}/{escaped}");
        if (offset > 0)
        {
            request.Headers.Range = new RangeHeaderValue(offset, null);
            if (ifRange is not null)
            {
                request.Headers.IfRange = new RangeConditionHeaderValue(new EntityTagHeaderValue(ifRange));
            }
        }

        return await downloads.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
    }

    private HttpRequestMessage Authorized(HttpMethod method, string path)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return request;
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
