namespace Geo.Events.Secondary.Registration;

/// <summary>
/// This secondary's access token for geo-primary, once <see cref="PrimaryRegistration"/> has read it from the
/// <c>registration</c> table (or registered with it). Held apart from the registration so that
/// <see cref="PrimaryApi"/>, which the registration itself uses, can present it. Never logged.
/// </summary>
public sealed class PrimaryAccess
{
    private volatile string? _token;

    public string Token => _token ?? throw new InvalidOperationException("this secondary is not registered with geo-primary yet");

    public void Grant(string token) => _token = token;
}
