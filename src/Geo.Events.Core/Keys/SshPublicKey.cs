using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Geo.Events.Core.Keys;

/// <summary>
/// An OpenSSH public key that has been parsed, not trusted: a known type, strict base64, a wire-format
/// blob (RFC 4253 §6.6, RFC 5656, OpenSSH PROTOCOL.u2f) whose inner type equals the declared one and whose
/// fields are complete with nothing left over. The comment is dropped. Lines written from it are built
/// from these parts, so no option, quote or newline from the input can reach authorized_keys.
/// </summary>
public sealed record SshPublicKey(string Type, string Base64)
{
    /// <summary>Larger than any real key (a 16384-bit RSA key is about 2.8 KB of base64).</summary>
    public const int MaxTextLength = 16 * 1024;

    public static readonly IReadOnlySet<string> KnownTypes = new HashSet<string>(StringComparer.Ordinal)
    {
        "ssh-ed25519", "ssh-rsa", "ssh-dss", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
        "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com",
    };

    /// <summary>OpenSSH's fingerprint, as <c>ssh-keygen -lf</c> prints it: <c>SHA256:</c> and unpadded base64.</summary>
    public string Fingerprint => "SHA256:" + Convert.ToBase64String(SHA256.HashData(Convert.FromBase64String(Base64))).TrimEnd('=');

    public override string ToString() => $"{Type} {Base64}";

    public static SshPublicKey Parse(string? text) =>
        TryParse(text, out var key, out var problem) ? key : throw new FormatException(problem);

    public static bool TryParse(string? text, out SshPublicKey key, out string problem)
    {
        key = null!;
        problem = Check(text, ref key) ?? "";
        return problem.Length == 0;
    }

    private static string? Check(string? text, ref SshPublicKey key)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return "the key is empty";
        }

        if (text.Length > MaxTextLength)
        {
            return $"the key is longer than {MaxTextLength} characters";
        }

        text = text.Trim(' ');
        if (text.Any(c => char.IsControl(c)))
        {
            return "the key contains a control character (newline, tab, NUL…); it must be one line";
        }

        var parts = text.Split(' ', 3, StringSplitOptions.RemoveEmptyEntries);
        var type = parts[0];
        if (!KnownTypes.Contains(type))
        {
            return type.Contains('=', StringComparison.Ordinal) || type.Contains(',', StringComparison.Ordinal) || type.Contains('"', StringComparison.Ordinal)
                ? "the key starts with options; only 'type base64 [comment]' is accepted"
                : $"'{Printable(type)}' is not a supported key type ({string.Join(", ", KnownTypes)})";
        }

        if (parts.Length < 2)
        {
            return "the key has a type but no base64 body";
        }

        var base64 = parts[1];
        var blob = new byte[base64.Length];
        if (base64.Length % 4 != 0 || !Convert.TryFromBase64String(base64, blob, out var length))
        {
            return "the key body is not valid base64 (truncated or altered?)";
        }

        var structure = CheckBlob(type, blob.AsSpan(0, length));
        if (structure is not null)
        {
            return structure;
        }

        key = new SshPublicKey(type, base64);
        return null;
    }

    private static string? CheckBlob(string type, ReadOnlySpan<byte> blob)
    {
        var reader = new WireReader(blob);
        if (!reader.TryString(out var inner))
        {
            return "the key body is truncated";
        }

        var innerType = Encoding.ASCII.GetString(inner);
        if (innerType != type)
        {
            return $"the key declares '{type}' but its body is a '{Printable(innerType)}' key";
        }

        var complete = type switch
        {
            "ssh-ed25519" => reader.TryString(out var pk) && pk.Length == 32,
            "ssh-rsa" => reader.TryString(out var e) && PositiveMpint(e, minimumBits: 1) && reader.TryString(out var n) && PositiveMpint(n, MinimumRsaBits),
            // RFC 4253 §6.6: p, q, g, y.
            "ssh-dss" => Mpints(ref reader, 4),
            "sk-ssh-ed25519@openssh.com" => reader.TryString(out var pk) && pk.Length == 32 && reader.TryString(out _),
            "sk-ecdsa-sha2-nistp256@openssh.com" => EcdsaFields(ref reader, "nistp256") && reader.TryString(out _),
            _ => EcdsaFields(ref reader, type["ecdsa-sha2-".Length..]),
        };
        if (!complete)
        {
            return "the key body is truncated or malformed for its type";
        }

        return reader.AtEnd ? null : "the key body has trailing bytes";
    }

    /// <summary>
    /// Any positive RSA modulus: GitLab accepts RSA keys of every size by default (<c>rsa_key_restriction</c> 0, "no
    /// restriction"), and a secondary lets in whoever the primary lets in. OpenSSH refuses moduli under 1024 bits
    /// (SSH_RSA_MINIMUM_MODULUS_SIZE); whether sshd honours such a line stays sshd's decision.
    /// </summary>
    public const int MinimumRsaBits = 1;

    private static bool Mpints(ref WireReader reader, int count)
    {
        for (var i = 0; i < count; i++)
        {
            if (!reader.TryString(out var value) || !PositiveMpint(value, minimumBits: 1))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// An mpint (RFC 4251 §5) that is positive with at least <paramref name="minimumBits"/> bits. Leading zero bytes
    /// are skipped, as OpenSSH's sshbuf_get_bignum2 does; a set high bit is a negative number, which it refuses.
    /// </summary>
    private static bool PositiveMpint(ReadOnlySpan<byte> value, int minimumBits)
    {
        if (value.IsEmpty || (value[0] & 0x80) != 0)
        {
            return false;
        }

        var significant = value.TrimStart((byte)0);
        var bits = significant.IsEmpty ? 0 : ((significant.Length - 1) * 8) + (32 - System.Numerics.BitOperations.LeadingZeroCount(significant[0]));
        return bits >= minimumBits;
    }

    private static bool EcdsaFields(ref WireReader reader, string curve) =>
        reader.TryString(out var name) && Encoding.ASCII.GetString(name) == curve && reader.TryString(out var q) && OnCurve(curve, q);

    /// <summary>An uncompressed point (0x04, X, Y) of the curve's size that lies on the curve, as OpenSSH requires.</summary>
    private static bool OnCurve(string curve, ReadOnlySpan<byte> q)
    {
        var (named, size) = curve switch
        {
            "nistp256" => (ECCurve.NamedCurves.nistP256, 32),
            "nistp384" => (ECCurve.NamedCurves.nistP384, 48),
            "nistp521" => (ECCurve.NamedCurves.nistP521, 66),
            _ => (default(ECCurve), 0),
        };
        if (size == 0 || q.Length != 1 + (2 * size) || q[0] != 0x04)
        {
            return false;
        }

        try
        {
            using var key = ECDsa.Create(new ECParameters { Curve = named, Q = new ECPoint { X = q.Slice(1, size).ToArray(), Y = q.Slice(1 + size, size).ToArray() } });
            return true;
        }
        catch (CryptographicException)
        {
            return false; // not a point of the curve
        }
    }

    private static string Printable(string value) =>
        new(value.Take(40).Select(c => char.IsControl(c) || c > '~' ? '?' : c).ToArray());

    /// <summary>Reads SSH wire-format strings: a big-endian uint32 length and that many bytes.</summary>
    private ref struct WireReader(ReadOnlySpan<byte> data)
    {
        private ReadOnlySpan<byte> _rest = data;

        public readonly bool AtEnd => _rest.IsEmpty;

        public bool TryString(out ReadOnlySpan<byte> value)
        {
            value = default;
            if (_rest.Length < 4)
            {
                return false;
            }

            var length = BinaryPrimitives.ReadUInt32BigEndian(_rest);
            if (length > (uint)(_rest.Length - 4))
            {
                return false;
            }

            value = _rest.Slice(4, (int)length);
            _rest = _rest[(4 + (int)length)..];
            return true;
        }
    }
}
