using System.Buffers.Binary;
using System.Text;
using System.Text.Json.Nodes;
using CsCheck;

namespace Geo.Events.Tests.Fuzz;

/// <summary>
/// Hook payloads for the fuzz: first a valid payload of one replicated kind, in the shape GitLab sends it
/// (doc/administration/system_hooks.md; <c>lib/gitlab/hook_data/*</c> and <c>lib/gitlab/data_builder/*</c>), then
/// up to <see cref="MaxMutations"/> mutations of it: a field removed, its JSON type changed, or its value made
/// hostile in the way its field invites (paths, refs, object ids, keys, usernames, numbers).
/// A case is built from three numbers CsCheck draws, so its seed replays it exactly, and shrinking drops
/// mutations while the valid payload stays the same.
/// </summary>
internal static class HookPayloads
{
    public const int MaxMutations = 3;

    public static readonly string[] Kinds =
    [
        "push", "tag_push", "repository_update", "project_create", "project_update", "project_destroy", "project_rename", "project_transfer",
        "group_rename", "group_destroy", "subgroup_destroy", "user_rename", "wiki_page", "key_create", "key_destroy", "upload_create", "upload_destroy", "lfs_object_create",
        "lfs_object_destroy", "avatar_create", "avatar_destroy",
    ];

    /// <summary>One generated payload: the kind it started as, its JSON, and what was done to it.</summary>
    public sealed record Case(string Kind, string Json, IReadOnlyList<string> Mutations)
    {
        public override string ToString() => $"{Kind} after [{string.Join(", ", Mutations)}]: {Json}";
    }

    /// <summary>A third of the cases are left valid, the rest get one to three mutations.</summary>
    public static readonly Gen<Case> Gen =
        CsCheck.Gen.Select(
            CsCheck.Gen.Int[0, Kinds.Length - 1],
            CsCheck.Gen.Int,
            CsCheck.Gen.Frequency((3, CsCheck.Gen.Const(0)), (6, CsCheck.Gen.Int[1, MaxMutations])),
            (kind, seed, mutations) => Build(Kinds[kind], seed, mutations));

    public static Case Build(string kind, int seed, int mutationCount)
    {
        var doc = Valid(kind, new Random(seed));
        var applied = new List<string>();
        for (var i = 0; i < mutationCount; i++)
        {
            // Each mutation has its own stream, so dropping the last ones (shrinking) leaves the others as they were.
            // (Not HashCode.Combine: it is seeded per process, and a seed must replay in another process.)
            applied.Add(Mutate(doc, new Random(unchecked(seed ^ ((i + 1) * -1640531535)))));
        }

        return new Case(kind, doc.ToJsonString(), applied);
    }

    // --- valid payloads, as GitLab documents them -------------------------------------------------------------

    private static JsonObject Valid(string kind, Random r) => kind switch
    {
        "push" or "tag_push" => Push(kind, r),
        "repository_update" => RepositoryUpdate(r),
        "project_create" or "project_update" or "project_destroy" => Project(kind, r, old: false),
        "project_rename" or "project_transfer" => Project(kind, r, old: true),
        "group_rename" => GroupRename(r),
        "group_destroy" or "subgroup_destroy" => GroupDestroy(kind, r),
        "user_rename" => UserRename(r),
        "wiki_page" => WikiPage(r),
        "key_create" or "key_destroy" => Key(kind, r),
        _ when kind.EndsWith("_create", StringComparison.Ordinal) => File(kind, r, create: true),
        _ => File(kind, r, create: false),
    };

    // A wiki repository's payload carries the wiki's hook attributes (ProjectWiki#hook_attrs: no id, no name); a project
    // may also really be called 'x.wiki'. Half the '.wiki' paths are each.
    private static JsonObject HookProject(long id, string path) => path.EndsWith(".wiki", StringComparison.Ordinal) && id % 2 == 0
        ? new JsonObject
        {
            ["web_url"] = $"http://example.com/{path}",
            ["git_ssh_url"] = $"git@example.com:{path}.git",
            ["git_http_url"] = $"http://example.com/{path}.git",
            ["path_with_namespace"] = path,
            ["default_branch"] = "main",
        }
        : new JsonObject
        {
            ["id"] = id,
            ["name"] = path.Split('/')[^1],
            ["description"] = "",
            ["web_url"] = $"http://example.com/{path}",
            ["avatar_url"] = null,
            ["git_ssh_url"] = $"git@example.com:{path}.git",
            ["git_http_url"] = $"http://example.com/{path}.git",
            ["namespace"] = path.Split('/')[0],
            ["visibility_level"] = 0,
            ["path_with_namespace"] = path,
            ["default_branch"] = "main",
            ["homepage"] = $"http://example.com/{path}",
        };

    // doc/administration/system_hooks.md "Push events" / "Tag events"; a project webhook names the kind in object_kind.
    private static JsonObject Push(string kind, Random r)
    {
        var id = ProjectId(r);
        var path = ProjectPathOrWiki(r);
        var after = ObjectId(r);
        return new JsonObject
        {
            [r.Next(4) == 0 ? "object_kind" : "event_name"] = kind,
            ["before"] = r.Next(5) == 0 ? new string('0', after.Length) : ObjectId(r, after.Length),
            ["after"] = after,
            ["ref"] = (kind == "push" ? "refs/heads/" : "refs/tags/") + RefName(r),
            ["checkout_sha"] = after,
            ["user_id"] = r.NextInt64(1, 100_000),
            ["user_name"] = "John Smith",
            ["user_username"] = Username(r),
            ["user_email"] = "john@example.com",
            ["project_id"] = id,
            ["project"] = HookProject(id, path),
            ["repository"] = new JsonObject { ["name"] = "Example", ["url"] = $"ssh://git@example.com/{path}.git", ["description"] = "" },
            ["commits"] = new JsonArray(new JsonObject { ["id"] = after, ["message"] = "Add a thing", ["timestamp"] = "2013-05-13T18:18:08+00:00" }),
            ["total_commits_count"] = 1,
        };
    }

    // doc/administration/system_hooks.md "Repository Update events" (Gitlab::DataBuilder::Repository.update).
    private static JsonObject RepositoryUpdate(Random r)
    {
        var id = ProjectId(r);
        var path = ProjectPathOrWiki(r);
        var changes = new JsonArray();
        var refs = new JsonArray();
        for (var i = 0; i < r.Next(1, 4); i++)
        {
            var name = (r.Next(3) == 0 ? "refs/tags/" : "refs/heads/") + RefName(r);
            var length = r.Next(4) == 0 ? 64 : 40;
            changes.Add(new JsonObject { ["before"] = ObjectId(r, length), ["after"] = r.Next(6) == 0 ? new string('0', length) : ObjectId(r, length), ["ref"] = name });
            refs.Add(name);
        }

        return new JsonObject
        {
            ["event_name"] = "repository_update",
            ["user_id"] = r.NextInt64(1, 100_000),
            ["user_name"] = "John Smith",
            ["user_email"] = "admin@example.com",
            ["project_id"] = id,
            ["project"] = HookProject(id, path),
            ["changes"] = changes,
            ["refs"] = refs,
        };
    }

    // doc/administration/system_hooks.md "Project created / destroyed / renamed / transferred": the shape the
    // integration tests post too.
    private static JsonObject Project(string kind, Random r, bool old) =>
        Testing.Hooks.ProjectEvent(kind, ProjectId(r), ProjectPath(r), old ? ProjectPath(r) : null);

    // doc/administration/system_hooks.md "Group renamed".
    // doc/administration/system_hooks.md "User renamed": the personal namespace follows the username.
    private static JsonObject UserRename(Random r) => new()
    {
        ["event_name"] = "user_rename",
        ["created_at"] = "2017-11-01T11:21:04Z",
        ["updated_at"] = "2017-11-01T14:04:47Z",
        ["name"] = "New Name",
        ["email"] = "best-email@example.tld",
        ["user_id"] = r.NextInt64(1, 100_000),
        ["username"] = Username(r),
        ["old_username"] = Username(r),
    };

    private static JsonObject GroupRename(Random r)
    {
        var full = NamespacePath(r);
        var oldFull = NamespacePath(r);
        return new JsonObject
        {
            ["created_at"] = "2017-10-30T15:58:38Z",
            ["updated_at"] = "2017-11-01T10:51:03Z",
            ["event_name"] = "group_rename",
            ["name"] = "Better Name",
            ["path"] = full.Split('/')[^1],
            ["full_path"] = full,
            ["group_id"] = r.NextInt64(1, 100_000),
            ["old_path"] = oldFull.Split('/')[^1],
            ["old_full_path"] = oldFull,
        };
    }

    private static JsonObject GroupDestroy(string kind, Random r)
    {
        var full = NamespacePath(r);
        return new JsonObject
        {
            ["created_at"] = "2017-10-30T15:58:38Z",
            ["updated_at"] = "2017-11-01T10:51:03Z",
            ["event_name"] = kind,
            ["name"] = "Gone",
            ["path"] = full.Split('/')[^1],
            ["full_path"] = full,
            ["group_id"] = r.NextInt64(1, 100_000),
        };
    }

    // The project webhook's "Wiki page events" (Gitlab::DataBuilder::WikiPage).
    private static JsonObject WikiPage(Random r)
    {
        var id = ProjectId(r);
        var path = ProjectPath(r);
        return new JsonObject
        {
            ["object_kind"] = "wiki_page",
            ["user"] = new JsonObject { ["id"] = 1, ["name"] = "Administrator", ["username"] = Username(r) },
            ["project"] = HookProject(id, path),
            ["wiki"] = new JsonObject
            {
                ["web_url"] = $"http://example.com/{path}/-/wikis/home",
                ["git_ssh_url"] = $"git@example.com:{path}.wiki.git",
                ["path_with_namespace"] = path + ".wiki",
                ["default_branch"] = "main",
            },
            ["object_attributes"] = new JsonObject
            {
                ["title"] = "Awesome",
                ["content"] = "awesome content goes here",
                ["format"] = "markdown",
                ["slug"] = "awesome",
                ["action"] = new[] { "create", "update", "delete" }[r.Next(3)],
            },
        };
    }

    // lib/gitlab/hook_data/key_builder.rb: "username" only for a key that belongs to a user, none for a deploy key.
    private static JsonObject Key(string kind, Random r)
    {
        var doc = new JsonObject
        {
            ["event_name"] = kind,
            ["created_at"] = "2021-04-19T06:13:24Z",
            ["updated_at"] = "2021-04-19T06:13:24Z",
            ["key"] = PublicKey(r),
            ["id"] = r.NextInt64(1, 10_000_000),
        };
        if (r.Next(4) != 0)
        {
            doc["username"] = Username(r);
        }

        return doc;
    }

    // Not GitLab's: geo-primary's own file events (its storage watcher, or a script), path relative to the kind's store.
    private static JsonObject File(string kind, Random r, bool create)
    {
        var doc = new JsonObject { ["event_name"] = kind, ["path"] = FilePath(kind, r) };
        if (create)
        {
            doc["size"] = r.Next(5) == 0 ? 0 : r.NextInt64(1, 1L << 36);
            doc["sha256"] = Hex(r, 64);
        }

        return doc;
    }

    // --- valid values --------------------------------------------------------------------------------------

    private const string Alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

    private static long ProjectId(Random r) => r.Next(10) == 0 ? long.MaxValue - r.Next(10) : r.NextInt64(1, 1_000_000);

    private static string Segment(Random r, string first, string rest, int max)
    {
        var sb = new StringBuilder().Append(first[r.Next(first.Length)]);
        for (var i = r.Next(0, max); i > 0; i--)
        {
            sb.Append(rest[r.Next(rest.Length)]);
        }

        var s = sb.ToString();
        return s.EndsWith(".git", StringComparison.OrdinalIgnoreCase) || s.EndsWith(".atom", StringComparison.OrdinalIgnoreCase) || s.EndsWith('.')
            ? s + "x"
            : s;
    }

    private static string PathSegment(Random r) => Segment(r, Alnum + "_", Alnum + "_.-", r.Next(8) == 0 ? 60 : 12);

    private static string NamespacePath(Random r) =>
        string.Join('/', Enumerable.Range(0, r.Next(8) == 0 ? r.Next(1, 20) : r.Next(1, 3)).Select(_ => PathSegment(r)));

    private static string ProjectPath(Random r) => NamespacePath(r) + "/" + PathSegment(r);

    private static string ProjectPathOrWiki(Random r) => ProjectPath(r) + (r.Next(5) == 0 ? ".wiki" : "");

    private static string FilePath(string kind, Random r)
    {
        string Seg() => Segment(r, Alnum + "_@+=-", Alnum + "_.@+=-", 16);
        return kind.StartsWith("lfs", StringComparison.Ordinal)
            ? $"{Hex(r, 2)}/{Hex(r, 2)}/{Hex(r, 60)}"
            : kind.StartsWith("avatar", StringComparison.Ordinal)
                ? $"user/avatar/{r.Next(1, 100_000)}/{Seg()}.png"
                : $"@hashed/{Hex(r, 2)}/{Hex(r, 2)}/{Hex(r, 64)}/{Hex(r, 32)}/{Seg()}";
    }

    private static string RefName(Random r) =>
        string.Join('/', Enumerable.Range(0, r.Next(1, 4)).Select(_ => Segment(r, Alnum + "_", Alnum + "_-.", 15).Replace("..", ".x", StringComparison.Ordinal)));

    private static string Hex(Random r, int length) => string.Concat(Enumerable.Range(0, length).Select(_ => "0123456789abcdef"[r.Next(16)]));

    private static string ObjectId(Random r, int? length = null) => Hex(r, length ?? (r.Next(4) == 0 ? 64 : 40));

    private static string Username(Random r) => Segment(r, Alnum + "_", Alnum + "_.-", 20);

    /// <summary>Keys ssh-keygen made (OpenSSH 9.2), and fresh ed25519 keys from the case's own bytes.</summary>
    private static readonly string[] RealKeys =
    [
        Keys.SshPublicKeyTests.Ed25519, Keys.SshPublicKeyTests.Rsa, Keys.SshPublicKeyTests.Dsa, Keys.SshPublicKeyTests.Ecdsa256,
        Keys.SshPublicKeyTests.Ecdsa384, Keys.SshPublicKeyTests.Ecdsa521,
    ];

    private static string PublicKey(Random r)
    {
        var text = r.Next(3) == 0
            ? string.Join(' ', RealKeys[r.Next(RealKeys.Length)].Split(' ')[..2])
            : "ssh-ed25519 " + Convert.ToBase64String(Blob("ssh-ed25519", Bytes(r, 32)));
        return r.Next(2) == 0 ? text : $"{text} {Username(r)}@{PathSegment(r)}";
    }

    private static byte[] Bytes(Random r, int length)
    {
        var bytes = new byte[length];
        r.NextBytes(bytes);
        return bytes;
    }

    /// <summary>SSH wire format (RFC 4251 §5): each field a big-endian uint32 length and its bytes.</summary>
    private static byte[] Blob(params object[] fields)
    {
        var parts = fields.Select(f => f as byte[] ?? Encoding.ASCII.GetBytes((string)f)).ToArray();
        var blob = new byte[parts.Sum(p => 4 + p.Length)];
        var at = 0;
        foreach (var part in parts)
        {
            BinaryPrimitives.WriteUInt32BigEndian(blob.AsSpan(at), (uint)part.Length);
            part.CopyTo(blob, at + 4);
            at += 4 + part.Length;
        }

        return blob;
    }

    // --- mutations ----------------------------------------------------------------------------------------

    private static readonly string[] Hostile =
    [
        "", " ", "..", ".", "/", "//", "../../etc/passwd", "/etc/passwd", "%2e%2e%2f", "a\\b", "..\\..\\x", "\u0000", "a\nb", "a\r\nb",
        "\u0085", "\u2028", "\t", "\u202e", "\u043e", "\uff0f", "\u2215", "\u2024\u2024", "ext::sh -c id", "--upload-pack=touch x",
        "file:///etc", "command=\"x\" ", "~", "$(id)", "`id`", "'", "\"", new string('a', 300), new string('x', 5000), "\ud83d\ude00",
        "caf\u00e9", "\u00a0", "\u007f", "\u001b[31m",
    ];

    private static readonly Func<JsonNode?>[] OtherTypes =
    [
        () => null, () => true, () => 0, () => -1, () => 1.5, () => "15", () => new JsonArray(), () => new JsonObject(),
        () => long.MaxValue, () => long.MinValue, () => 1e30, () => "", () => new JsonArray("a", 1),
    ];

    private static string Mutate(JsonObject doc, Random r)
    {
        var slots = Slots(doc).ToList();
        if (slots.Count == 0)
        {
            return "nothing left to mutate";
        }

        var (parent, name, index) = slots[r.Next(slots.Count)];
        var current = name is not null ? ((JsonObject)parent)[name] : ((JsonArray)parent)[index];
        var label = name ?? $"[{index}]";
        var roll = r.Next(100);
        if (roll < 12)
        {
            Set(parent, name, index, remove: true, value: null);
            return $"remove {label}";
        }

        if (roll < 22)
        {
            var replacement = OtherTypes[r.Next(OtherTypes.Length)]();
            Set(parent, name, index, remove: false, replacement);
            return $"{label} := {replacement?.ToJsonString() ?? "null"}";
        }

        var text = current is JsonValue v && v.TryGetValue<string>(out var s) ? s : current?.ToJsonString() ?? "";
        string mutated;
        if (roll < 32)
        {
            mutated = Hostile[r.Next(Hostile.Length)];
        }
        else if (roll < 42)
        {
            mutated = text.Insert(r.Next(text.Length + 1), Hostile[r.Next(Hostile.Length)]);
        }
        else if ((name ?? "") is "id" or "project_id" or "user_id" or "group_id" or "size")
        {
            var number = MutateNumber(r);
            Set(parent, name, index, remove: false, number);
            return $"{label} := {number?.ToJsonString() ?? "null"}";
        }
        else
        {
            // An array item is mutated as its array's field is (refs[], changes[] hold refs and object ids).
            mutated = (name ?? (parent.Parent is JsonObject ? parent.GetPropertyName() : "")) switch
            {
                "path_with_namespace" or "old_path_with_namespace" or "full_path" or "old_full_path" or "path" => MutatePath(text, r),
                "ref" or "refs" => MutateRef(text, r),
                "before" or "after" or "checkout_sha" => MutateObjectId(text.PadRight(40, '0'), r),
                "key" => MutateKey(text, r),
                "username" => MutateUsername(r),
                "sha256" => MutateObjectId(text.PadRight(64, '0'), r),
                "event_name" or "object_kind" => r.Next(2) == 0 ? Kinds[r.Next(Kinds.Length)] : new[] { "PUSH", "push\u0000", " push", "user_create", "project_update" }[r.Next(5)],
                _ => text.Insert(r.Next(text.Length + 1), Hostile[r.Next(Hostile.Length)]),
            };
        }

        Set(parent, name, index, remove: false, JsonValue.Create(mutated));
        return $"{label} := {Printable(mutated)}";
    }

    private static string MutatePath(string path, Random r)
    {
        var segments = path.Split('/').ToList();
        var at = r.Next(segments.Count);
        switch (r.Next(16))
        {
            case 0: return "/" + path;
            case 1: return path + "/";
            case 2: segments.Insert(at, ".."); break;
            case 3: segments[at] = ".."; break;
            case 4: segments.Insert(at, "."); break;
            case 5: segments.Insert(at, ""); break;
            case 6: segments[at] += new[] { ".git", ".GIT", ".atom", ".wiki.git", ".lock", "." }[r.Next(6)]; break;
            case 7: segments[at] = new[] { "-x", ".x", "~x", "@x", "+x", "=x" }[r.Next(6)] + segments[at]; break;
            case 8: segments[at] = new string('s', r.Next(250, 260)); break;
            case 9: return string.Join('/', Enumerable.Repeat("s", r.Next(20, 40)));
            case 10: return path + "/" + new string('p', 5000);
            case 11: segments[at] = segments[at].Insert(r.Next(segments[at].Length + 1), new[] { "\u0000", "\n", " ", "\t", "\u0430", "\u00e9", "\uff0f", "\u2215", "\\", "%2e" }[r.Next(10)]); break;
            case 12: return "../" + path;
            case 13: return "~/" + path;
            case 14: return segments[0];
            default: return path.Replace('/', '\\');
        }

        return string.Join('/', segments);
    }

    private static string MutateRef(string name, Random r) => r.Next(18) switch
    {
        0 => name.Replace("refs/heads/", "refs/tags/", StringComparison.Ordinal).Replace("refs/tags/", "refs/heads/", StringComparison.Ordinal),
        1 => name.StartsWith("refs/", StringComparison.Ordinal) ? name["refs/".Length..] : "refs/" + name,
        2 => name + "/../../x",
        3 => name + "@{1}",
        4 => name + ".lock",
        5 => name + "/",
        6 => name + ".",
        7 => name.Replace("/", "//", StringComparison.Ordinal),
        8 => name + new[] { " x", "~1", "^", ":x", "?", "*", "[", "\\x", "\u007f", "\u0000", "\n" }[r.Next(11)],
        9 => name + "/\u00fc",
        10 => name + "/" + new string('r', 2000),
        11 => name + "/.hidden",
        12 => "HEAD",
        13 => "refs/heads/@",
        14 => "refs/heads/-x",
        15 => "refs/remotes/origin/main",
        16 => "--upload-pack=x",
        _ => "refs/heads",
    };

    // A field mutated once already may be short: pad it so that every mutation below applies.
    private static string MutateObjectId(string id, Random r) => r.Next(9) switch
    {
        0 => id.ToUpperInvariant(),
        1 => id[..^1],
        2 => id + "0",
        3 => id[..^1] + "g",
        4 => "0x" + id[2..],
        5 => id[..20],
        6 => " " + id[1..],
        7 => new string('0', 40),
        _ => id + id[..24],
    };

    private static string MutateUsername(Random r) => r.Next(12) switch
    {
        0 => "two words",
        1 => "",
        2 => "j\u00f6rg",
        3 => "nul\u0000",
        4 => "tab\there",
        5 => new string('u', 256),
        6 => new string('u', 255),
        7 => "new\nline",
        8 => "\u202eroot",
        9 => "a\"b",
        10 => "-root",
        _ => "del\u007f",
    };

    private static JsonNode? MutateNumber(Random r) => r.Next(10) switch
    {
        0 => 0,
        1 => -1,
        2 => long.MaxValue,
        3 => long.MinValue,
        4 => 1.5,
        5 => "7",
        6 => null,
        7 => (1L << 40) + 1,
        8 => 9007199254740993,
        _ => 1e30,
    };

    private static string MutateKey(string key, Random r)
    {
        var parts = key.Split(' ');
        var (type, body) = (parts[0], parts.Length > 1 ? parts[1] : "");
        byte[] blob;
        try
        {
            blob = Convert.FromBase64String(body);
        }
        catch (FormatException)
        {
            blob = [];
        }

        return r.Next(24) switch
        {
            23 => KeysGitLabAcceptsOpenSshRefuses[r.Next(KeysGitLabAcceptsOpenSshRefuses.Length)].Key(r),
            22 => KeysOpenSshRefuses[r.Next(KeysOpenSshRefuses.Length)].Key(r),
            0 => "command=\"/bin/sh\" " + key,
            1 => "no-pty,permitopen=\"*:*\" " + key,
            2 => key + "\nssh-ed25519 " + body,
            3 => key + "\r",
            4 => type + "\t" + body,
            5 => "   " + key + "   ",
            6 => type + "  " + body + " two  spaces",
            7 => (type == "ssh-rsa" ? "ssh-ed25519" : "ssh-rsa") + " " + body,
            8 => type + " " + body[..Math.Max(0, body.Length - 4)],
            9 => type + " " + body.TrimEnd('='),
            10 => type + " " + Convert.ToBase64String([.. blob, .. Bytes(r, r.Next(1, 8))]),
            11 => type + " " + Convert.ToBase64String(blob.Length > 8 ? blob[..^r.Next(1, 8)] : blob),
            12 => "ssh-ed25519 " + Convert.ToBase64String(Blob("ssh-ed25519", Bytes(r, new[] { 0, 31, 33, 64 }[r.Next(4)]))),
            // A well-formed 2048-bit RSA key (OpenSSH does not test the modulus for primes).
            13 => "ssh-rsa " + Convert.ToBase64String(Blob("ssh-rsa", new byte[] { 1, 0, 1 }, (byte[])[0, (byte)(0x80 | r.Next(256)), .. Bytes(r, 255)])),
            14 => "ssh-ed25519 " + Convert.ToBase64String(Blob("ssh-ed25519", Bytes(r, 32))) + " " + Username(r),
            15 => type + " " + body + " " + new string('c', 2000),
            16 => "ssh-rsa " + body,
            17 => "ssh-dss " + body,
            18 => type + " " + body.Replace('A', '*'),
            19 => type + " " + body + " j\u00f6rg@h\u00f6st",
            20 => type + " " + body + " \u0000",
            _ => type + " " + Convert.ToBase64String(Blob(type == "ssh-rsa" ? "ssh-ed25519" : "ssh-rsa", Bytes(r, 32))),
        };
    }

    /// <summary>
    /// Keys that well-formed wire parsing accepts and OpenSSH refuses (<c>ssh-keygen -l</c>: "is not a public key file"):
    /// found by the fuzz's OpenSSH oracle, refused by SshPublicKey since (OpenSshAgreementTests), and mutations of
    /// <see cref="MutateKey"/>.
    /// </summary>
    public static readonly (string Name, Func<Random, string> Key)[] KeysOpenSshRefuses =
    [
        // A modulus mpint with its high bit set, which is negative: sshbuf_get_bignum2 refuses it.
        ("negative RSA modulus", r => "ssh-rsa " + Convert.ToBase64String(Blob("ssh-rsa", new byte[] { 1, 0, 1 }, (byte[])[(byte)(0x80 | r.Next(256)), .. Bytes(r, 255)]))),
        // A point that is not on the curve.
        ("ECDSA point off the curve", r => "ecdsa-sha2-nistp256 " + Convert.ToBase64String(Blob("ecdsa-sha2-nistp256", "nistp256", (byte[])[4, .. Bytes(r, 64)]))),
    ];

    /// <summary>
    /// Keys GitLab accepts by default and OpenSSH refuses: accepted at ingest on purpose (a secondary lets in whoever the
    /// primary lets in; sshd then skips the line), so the oracle does not ask ssh-keygen about them.
    /// </summary>
    public static readonly (string Name, Func<Random, string> Key)[] KeysGitLabAcceptsOpenSshRefuses =
    [
        // A modulus under OpenSSH's 1024-bit minimum (SSH_RSA_MINIMUM_MODULUS_SIZE); GitLab's rsa_key_restriction is 0 by default.
        ("1016-bit RSA", r => "ssh-rsa " + Convert.ToBase64String(Blob("ssh-rsa", new byte[] { 1, 0, 1 }, (byte[])[0, .. Bytes(r, 127)]))),
    ];

    private static IEnumerable<(JsonNode Parent, string? Name, int Index)> Slots(JsonNode node)
    {
        if (node is JsonObject obj)
        {
            foreach (var (name, child) in obj.ToList())
            {
                yield return (obj, name, -1);
                if (child is not null)
                {
                    foreach (var slot in Slots(child))
                    {
                        yield return slot;
                    }
                }
            }
        }
        else if (node is JsonArray array)
        {
            for (var i = 0; i < array.Count; i++)
            {
                yield return (array, null, i);
                if (array[i] is { } child)
                {
                    foreach (var slot in Slots(child))
                    {
                        yield return slot;
                    }
                }
            }
        }
    }

    private static void Set(JsonNode parent, string? name, int index, bool remove, JsonNode? value)
    {
        if (parent is JsonObject obj)
        {
            if (remove)
            {
                obj.Remove(name!);
            }
            else
            {
                obj[name!] = value;
            }
        }
        else if (parent is JsonArray array)
        {
            if (remove)
            {
                array.RemoveAt(index);
            }
            else
            {
                array[index] = value;
            }
        }
    }

    private static string Printable(string value) =>
        System.Text.Json.JsonSerializer.Serialize(value.Length > 60 ? value[..60] + $"…({value.Length})" : value);
}
