namespace Geo.Events.Secondary.Verification;

/// <summary>Section <c>Secondary</c>, verification: how often every mirror is compared with the primary.</summary>
public sealed class VerificationOptions
{
    /// <summary>Shared with the section's other areas (<see cref="SecondaryOptions"/>): the key is <c>Secondary:VerifyInterval</c>.</summary>
    public const string Section = SecondaryOptions.Section;

    /// <summary>
    /// How often every mirror is compared with the primary by refs checksum (and repaired); zero turns the
    /// periodic verification off. Needs registration (Secondary:PrimaryUrl).
    /// </summary>
    public TimeSpan VerifyInterval { get; set; } = TimeSpan.FromHours(12);
}
