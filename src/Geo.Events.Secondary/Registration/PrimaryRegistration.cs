using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using Dapper;
using Geo.Events.Secondary.Keys;
using Geo.Events.Secondary.Repositories;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Geo.Events.Secondary.Registration;

/// <summary>
/// Registers this secondary with geo-primary when it is not registered yet (Secondary:PrimaryUrl and
/// Secondary:RegistrationToken), then reports its status every Secondary:HeartbeatInterval with its own
/// access token. The token is chosen here and stored before the first attempt, so a retry after a crash is
/// the same registration, not a rival one.
/// </summary>
public sealed class PrimaryRegistration(
    IOptions<SecondaryOptions> options,
    NpgsqlDataSource dataSource,
    ProjectRegistry projects,
    KeyRegistry keys,
    Verification.Reconciler reconciler,
    Verification.ReconcileRuns runs,
    Files.FileRegistry files,
    IHttpClientFactory httpClients,
    ILogger<PrimaryRegistration> logger) : BackgroundService
{
    public const string HttpClientName = "geo-primary";

    /// <summary>Why this secondary is not registered yet; null once it is, or when registration is not configured.</summary>
    public string? Problem { get; private set; }

    public bool Enabled => !string.IsNullOrWhiteSpace(options.Value.PrimaryUrl);

    private readonly TaskCompletionSource<PrimaryApi> _api = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>geo-primary's API with this secondary's token, once registered.</summary>
    public async Task<PrimaryApi> ApiAsync(CancellationToken cancellationToken)
    {
        if (!Enabled)
        {
            throw new InvalidOperationException("this secondary is not registered with geo-primary (set Secondary:PrimaryUrl and Secondary:RegistrationToken): files are downloaded from geo-primary with its token");
        }

        return await _api.Task.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!Enabled)
        {
            return;
        }

        var secondary = options.Value;
        Problem = "registration pending";
        using var http = httpClients.CreateClient(HttpClientName);
        http.BaseAddress = new Uri(secondary.PrimaryUrl!.TrimEnd('/') + "/");
        // Downloads have no overall timeout (a large file takes long); FileStore stops one that stalls.
        using var downloads = httpClients.CreateClient(HttpClientName);
        downloads.BaseAddress = http.BaseAddress;
        downloads.Timeout = Timeout.InfiniteTimeSpan;
        var registered = await RegisterAsync(http, stoppingToken);
        if (registered is not { } token)
        {
            return;
        }

        var api = new PrimaryApi(http, downloads, secondary.Name, token.AccessToken);
        _api.TrySetResult(api);
        var reconciling = ReconcileAsync(api, token.JustRegistered, stoppingToken);
        using var timer = new PeriodicTimer(secondary.HeartbeatInterval);
        do
        {
            try
            {
                foreach (var request in await api.ReportAsync(await StatusAsync(stoppingToken), stoppingToken))
                {
                    await reconciler.RequestAsync(request, stoppingToken);
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or NpgsqlException or System.Text.Json.JsonException && !stoppingToken.IsCancellationRequested)
            {
                // The primary being away for a while is not this secondary's problem: it keeps applying events.
                logger.LogWarning("Could not report status to geo-primary: {Error}", e.Message);
            }
        }
        while (!reconciling.IsCompleted && await timer.WaitForNextTickAsync(stoppingToken));
        await reconciling;
    }

    /// <summary>Runs the reconciler for as long as the service runs; a failure (PostgreSQL away at start) restarts it, not the host.</summary>
    private async Task ReconcileAsync(PrimaryApi api, bool justRegistered, CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await reconciler.RunAsync(api, justRegistered, stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning("Backfill and verification stopped ({Error}); starting them again in 10 s", e.Message);
                await Task.Delay(TimeSpan.FromSeconds(10), stoppingToken);
            }
        }
    }

    private sealed record Registered(string AccessToken, bool JustRegistered);

    private async Task<Registered?> RegisterAsync(HttpClient http, CancellationToken stoppingToken)
    {
        var secondary = options.Value;
        var delay = TimeSpan.FromSeconds(1);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var stored = await StoredAsync(stoppingToken);
                if (stored.RegisteredAt is not null)
                {
                    Problem = null;
                    return new Registered(stored.AccessToken, JustRegistered: false);
                }

                if (string.IsNullOrEmpty(secondary.RegistrationToken))
                {
                    Problem = "not registered and Secondary:RegistrationToken is not set";
                    logger.LogError("geo-secondary {Name} is not registered with {Primary} and has no Secondary:RegistrationToken to register with", secondary.Name, secondary.PrimaryUrl);
                    return null;
                }

                using var request = new HttpRequestMessage(HttpMethod.Post, "api/v1/secondaries")
                {
                    Content = JsonContent.Create(new { name = secondary.Name, url = secondary.PublicUrl, namespaces = secondary.Namespaces, token = stored.AccessToken }),
                };
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", secondary.RegistrationToken);
                using var response = await http.SendAsync(request, stoppingToken);
                if (response.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK)
                {
                    await MarkRegisteredAsync(stoppingToken);
                    Problem = null;
                    logger.LogInformation("Registered with geo-primary at {Primary} as {Name}", secondary.PrimaryUrl, secondary.Name);
                    return new Registered(stored.AccessToken, JustRegistered: true);
                }

                var body = await response.Content.ReadAsStringAsync(stoppingToken);
                if ((int)response.StatusCode is >= 400 and < 500)
                {
                    // Wrong token, name taken, invalid settings: retrying will not help; say why and stay unregistered.
                    Problem = $"registration refused ({(int)response.StatusCode}): {body}";
                    logger.LogError("geo-primary refused to register {Name}: {Status} {Body}", secondary.Name, (int)response.StatusCode, body);
                    return null;
                }

                throw new HttpRequestException($"geo-primary answered {(int)response.StatusCode}: {body}");
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or NpgsqlException && !stoppingToken.IsCancellationRequested)
            {
                Problem = $"registration pending: {e.Message}";
                logger.LogWarning("Could not register with geo-primary yet ({Error}); retrying in {Delay}", e.Message, delay);
                await Task.Delay(delay, stoppingToken);
                delay = TimeSpan.FromSeconds(Math.Min(delay.TotalSeconds * 2, 30));
            }
        }

        return null;
    }

    private sealed record Stored(string AccessToken, DateTime? RegisteredAt);

    private async Task<Stored> StoredAsync(CancellationToken cancellationToken)
    {
        var secondary = options.Value;
        var fresh = Core.Security.Secrets.NewToken();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        // A different primary URL is a new registration: keep the name, start over with a new token.
        return await connection.QuerySingleAsync<Stored>(new CommandDefinition(
            """
            INSERT INTO registration (name, primary_url, access_token) VALUES (@name, @url, @fresh)
            ON CONFLICT (name) DO UPDATE
               SET primary_url = EXCLUDED.primary_url,
                   access_token = CASE WHEN registration.primary_url = EXCLUDED.primary_url THEN registration.access_token ELSE EXCLUDED.access_token END,
                   registered_at = CASE WHEN registration.primary_url = EXCLUDED.primary_url THEN registration.registered_at END
            RETURNING access_token AS AccessToken, registered_at AS RegisteredAt
            """,
            new { name = secondary.Name, url = secondary.PrimaryUrl, fresh }, cancellationToken: cancellationToken));
    }

    private async Task MarkRegisteredAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE registration SET registered_at = now() WHERE name = @name", new { name = options.Value.Name }, cancellationToken: cancellationToken));
    }

    private async Task<object> StatusAsync(CancellationToken cancellationToken)
    {
        var (projectStates, projectOldest) = await projects.SummaryAsync(cancellationToken, Contracts.RepositoryKind.Project);
        var (wikiStates, wikiOldest) = await projects.SummaryAsync(cancellationToken, Contracts.RepositoryKind.Wiki);
        var oldest = Math.Max(projectOldest, wikiOldest); // the oldest unapplied event of either kind
        var keyCounts = await keys.CountsAsync(cancellationToken);
        return new
        {
            reportedAt = DateTimeOffset.UtcNow,
            oldestPendingSeconds = oldest,
            lastSyncedSequence = await projects.LastSyncedSequenceAsync(cancellationToken),
            projects = new
            {
                synced = projectStates.GetValueOrDefault("synced"),
                pending = projectStates.GetValueOrDefault("pending"),
                failed = projectStates.GetValueOrDefault("failed"),
                destroyed = projectStates.GetValueOrDefault("destroyed"),
            },
            wikis = new
            {
                synced = wikiStates.GetValueOrDefault("synced"),
                pending = wikiStates.GetValueOrDefault("pending"),
                failed = wikiStates.GetValueOrDefault("failed"),
                absent = wikiStates.GetValueOrDefault("absent"),
            },
            keys = new { live = keyCounts.Live, destroyed = keyCounts.Destroyed },
            files = await files.SummaryAsync(cancellationToken),
            namespaces = options.Value.Namespaces,
            runs = (await runs.RecentAsync(10, cancellationToken)).Select(r => new
            {
                r.Id,
                r.RequestId,
                r.Kind,
                r.ProjectId,
                r.State,
                r.Total,
                r.Done,
                r.Matched,
                r.Repaired,
                r.Failed,
                r.StartedAt,
                r.FinishedAt,
                r.Error,
            }),
        };
    }
}
