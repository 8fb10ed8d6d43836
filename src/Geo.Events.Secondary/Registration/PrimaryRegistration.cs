using System.Net;
using Geo.Events.Contracts.Api;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Geo.Events.Secondary.Registration;

/// <summary>
/// Registers this secondary with geo-primary when it is not registered yet (Secondary:PrimaryUrl and
/// Secondary:RegistrationToken), then hands out geo-primary's API with its own access token to the status
/// heartbeat (<see cref="StatusHeartbeat"/>), backfill and verification (<see cref="Verification.ReconcilerService"/>)
/// and file downloads.
/// </summary>
public sealed class PrimaryRegistration(
    IOptions<SecondaryOptions> options,
    RegistrationStore store,
    PrimaryApi api,
    PrimaryAccess access,
    ILogger<PrimaryRegistration> logger) : BackgroundService
{
    /// <param name="JustRegistered">True when this start registered the secondary (it starts empty: backfill everything).</param>
    public sealed record Registered(PrimaryApi Api, bool JustRegistered);

    /// <summary>Why this secondary is not registered yet; null once it is, or when registration is not configured.</summary>
    public string? Problem { get; private set; }

    public bool Enabled => !string.IsNullOrWhiteSpace(options.Value.PrimaryUrl);

    private readonly TaskCompletionSource<PrimaryApi> _api = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<Registered?> _outcome = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>geo-primary's API with this secondary's token, once registered.</summary>
    public async Task<PrimaryApi> ApiAsync(CancellationToken cancellationToken)
    {
        if (!Enabled)
        {
            throw new InvalidOperationException("this secondary is not registered with geo-primary (set Secondary:PrimaryUrl and Secondary:RegistrationToken): files are downloaded from geo-primary with its token");
        }

        return await _api.Task.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
    }

    /// <summary>Waits for the registration; null when there is none (not configured, refused, or the service stopped first).</summary>
    public Task<Registered?> OutcomeAsync(CancellationToken cancellationToken) => _outcome.Task.WaitAsync(cancellationToken);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            if (!Enabled)
            {
                return;
            }

            Problem = "registration pending";
            if (await RegisterAsync(stoppingToken) is not { } justRegistered)
            {
                return;
            }

            _api.TrySetResult(api);
            _outcome.TrySetResult(new Registered(api, justRegistered));
        }
        finally
        {
            _outcome.TrySetResult(null);
        }
    }

    /// <summary>Returns whether this call registered the secondary, or null when it is not registered and will not be.</summary>
    private async Task<bool?> RegisterAsync(CancellationToken stoppingToken)
    {
        var secondary = options.Value;
        var delay = TimeSpan.FromSeconds(1);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var stored = await store.GetOrCreateAsync(secondary.Name, secondary.PrimaryUrl!, stoppingToken);
                access.Grant(stored.AccessToken);
                if (stored.RegisteredAt is not null)
                {
                    Problem = null;
                    return false;
                }

                if (string.IsNullOrEmpty(secondary.RegistrationToken))
                {
                    Problem = "not registered and Secondary:RegistrationToken is not set";
                    logger.LogError("geo-secondary {Name} is not registered with {Primary} and has no Secondary:RegistrationToken to register with", secondary.Name, secondary.PrimaryUrl);
                    return null;
                }

                var registration = new SecondaryRegistration { Name = secondary.Name, Url = secondary.PublicUrl, Namespaces = [.. secondary.Namespaces], Token = stored.AccessToken };
                var (status, body) = await api.RegisterAsync(registration, secondary.RegistrationToken, stoppingToken);
                if (status is HttpStatusCode.Created or HttpStatusCode.OK)
                {
                    await store.MarkRegisteredAsync(secondary.Name, stoppingToken);
                    Problem = null;
                    logger.LogInformation("Registered with geo-primary at {Primary} as {Name}", secondary.PrimaryUrl, secondary.Name);
                    return true;
                }

                if ((int)status is >= 400 and < 500)
                {
                    // Wrong token, name taken, invalid settings: retrying will not help; say why and stay unregistered.
                    Problem = $"registration refused ({(int)status}): {body}";
                    logger.LogError("geo-primary refused to register {Name}: {Status} {Body}", secondary.Name, (int)status, body);
                    return null;
                }

                throw new HttpRequestException($"geo-primary answered {(int)status}: {body}");
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
}
