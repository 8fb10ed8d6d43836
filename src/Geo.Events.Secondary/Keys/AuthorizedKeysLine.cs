namespace Geo.Events.Secondary.Keys;

/// <summary>
/// One line of gitlab-shell's authorized_keys format, built only from parsed parts and the validated shell path.
/// Shared by the file geo-secondary writes and by the AuthorizedKeysCommand (<c>geo-authorized-keys</c> compiles
/// this file too), so sshd sees the same line either way.
/// </summary>
public static class AuthorizedKeysLine
{
    /// <summary>The restrictions every key line carries, as gitlab-shell's own lines do.</summary>
    public const string Options = "no-port-forwarding,no-X11-forwarding,no-agent-forwarding,no-pty";

    public static string For(string shellCommand, long keyId, string keyType, string keyBlob) =>
        $"command=\"{shellCommand} key-{keyId}\",{Options} {keyType} {keyBlob}";
}
