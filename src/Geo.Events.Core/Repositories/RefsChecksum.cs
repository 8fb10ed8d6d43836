using System.Security.Cryptography;
using System.Text;
using LibGit2Sharp;

namespace Geo.Events.Core.Repositories;

/// <summary>
/// A versioned checksum of a repository's refs, computed the same way by geo-primary (over GitLab's
/// repository) and by geo-secondary (over its mirror): equal checksums mean equal refs.
/// </summary>
/// <remarks>
/// v1: SHA-256 over every ref under <c>refs/</c> but <c>refs/geo-attic/</c>, sorted by name (ordinal), one line each:
/// <c>&lt;name&gt; &lt;object id&gt;\n</c>, or <c>&lt;name&gt; ref:&lt;target&gt;\n</c> for a symbolic ref. HEAD is
/// left out: it names the default branch, which a mirror follows separately. The version prefix lets a
/// later rule coexist with this one during an upgrade.
/// </remarks>
public static class RefsChecksum
{
    public const string Version = "v1";

    /// <summary>
    /// A secondary's hidden attic of overwritten history (README "Safety net"): never part of the checksum, so a
    /// mirror keeping old tips still equals the primary. GitLab's repositories have no such refs.
    /// </summary>
    public const string AtticPrefix = "refs/geo-attic/";

    /// <summary>The checksum of the repository at <paramref name="gitDir"/>; throws if it is not a repository.</summary>
    public static string Compute(string gitDir)
    {
        using var repo = new Repository(gitDir);
        return Of(Read(repo));
    }

    /// <summary>
    /// Refs a secondary created from its attic for an admin's recovery (<c>geo-admin attic restore</c>) and holds until
    /// the primary has a ref of that name: listed in the mirror's config as <c>geo.&lt;ref&gt;.held</c>, left out of the
    /// checksum and the prune. GitLab's repositories have none.
    /// </summary>
    public static HashSet<string> HeldRefs(Repository repo) => repo.Config
        .Find(@"^geo\..*\.held$")
        .Select(entry => entry.Key["geo.".Length..^".held".Length])
        .ToHashSet(StringComparer.Ordinal);

    /// <summary>The refs under <c>refs/</c>: name → object id, or <c>ref:&lt;target&gt;</c> for a symbolic ref.</summary>
    public static Dictionary<string, string> Read(Repository repo)
    {
        var held = HeldRefs(repo);
        return repo.Refs
            .Where(r => r.CanonicalName.StartsWith("refs/", StringComparison.Ordinal) && !r.CanonicalName.StartsWith(AtticPrefix, StringComparison.Ordinal)
                        && !held.Contains(r.CanonicalName))
            .ToDictionary(r => r.CanonicalName, r => r is SymbolicReference symbolic ? "ref:" + symbolic.TargetIdentifier : r.TargetIdentifier, StringComparer.Ordinal);
    }

    /// <summary>The checksum of refs as <see cref="Read"/> returns them.</summary>
    public static string Of(IReadOnlyDictionary<string, string> refs)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var name in refs.Keys.Order(StringComparer.Ordinal))
        {
            hash.AppendData(Encoding.UTF8.GetBytes($"{name} {refs[name]}\n"));
        }

        return Version + ":" + Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}
