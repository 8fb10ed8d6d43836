using System.Text.Json;
using System.Text.Json.Nodes;
using CsCheck;
using Geo.Events.Contracts;
using Geo.Events.Core.Keys;
using Geo.Events.Core.Paths;
using Geo.Events.Primary.Hooks;

namespace Geo.Events.Tests.Fuzz;

/// <summary>
/// A property-based fuzz of what geo-primary does with a body: parse, validate, map. Generated payloads mix
/// every event name with hostile values (traversal, encodings, look-alikes, control characters, option
/// injection, extreme numbers). The properties: nothing but JsonException ever escapes, and whatever passes
/// validation maps to an event whose paths and keys pass the checks the secondary applies again. Runs for
/// GEO_FUZZ_SECONDS (default 5) in make test; set it higher to fuzz longer.
/// </summary>
[TestClass]
public sealed class PayloadFuzzTests
{
    private static readonly string[] Names =
    [
        "push", "tag_push", "repository_update", "key_create", "key_destroy", "project_create", "project_destroy", "project_rename",
        "project_transfer", "group_rename", "wiki_page", "upload_create", "upload_destroy", "lfs_object_create", "lfs_object_destroy",
        "avatar_create", "avatar_destroy", "user_create", "PUSH", "", "push\u0000",
    ];

    private static readonly string[] Pieces =
    [
        "group", "project", "a", "..", ".", "/", "//", "%2e", "%2f", "\\", "\u0000", "\n", "\r\n", "\u0085", "\u2028", "\t", " ", "\u202e", "\u043e", "\uff0f", "\u2024",
        ".git", ".wiki", ".atom", "-", "_", "@hashed", "~", ":", "ext::sh", "--upload-pack=x", "file://", "command=\"x\" ", "ssh-ed25519 ",
        "AAAAC3NzaC1lZDI1NTE5AAAAIPmJXHHKWjNijYWRlzKSsje7fnZXKajK9s20UoT6k74d", "refs/heads/", "refs/tags/", "main", "da1560886d4f094c3e6c9ef40349f7d38b5d27d7",
        "0000000000000000000000000000000000000000", new string('a', 64), new string('x', 300),
    ];

    private static readonly Gen<string> Text = Gen.OneOf(Pieces).Array[0, 8].Select(parts => string.Concat(parts));

    private static readonly Gen<JsonNode?> Number = Gen.OneOf<JsonNode?>(
        Gen.Long.Select(n => (JsonNode?)JsonValue.Create(n)),
        Gen.OneOf(0L, -1L, 1L, long.MaxValue, long.MinValue, 7L).Select(n => (JsonNode?)JsonValue.Create(n)),
        Gen.Double.Select(d => (JsonNode?)JsonValue.Create(double.IsFinite(d) ? d : 0.5)),
        Text.Select(s => (JsonNode?)JsonValue.Create(s)),
        Gen.Const<JsonNode?>((JsonNode?)null));

    private static readonly Gen<JsonNode?> Value = Gen.OneOf<JsonNode?>(Text.Select(s => (JsonNode?)JsonValue.Create(s)), Number);

    private static readonly Gen<JsonObject> Project = Gen.Select(Number, Text, (id, path) => new JsonObject { ["id"] = id, ["path_with_namespace"] = path });

    private static readonly Gen<string> Payload =
        from name in Gen.OneOf(Names)
        from projectId in Number
        from project in Project
        from pathTop in Text
        from oldPath in Text
        from @ref in Text
        from before in Text
        from after in Text
        from key in Text
        from id in Number
        from username in Value
        from size in Number
        from sha in Text
        from fullPath in Text
        from changes in Gen.Select(Text, Text, Text, (r, b, a) => new JsonObject { ["ref"] = r, ["before"] = b, ["after"] = a }).Array[0, 3]
        select new JsonObject
        {
            [name.StartsWith("wiki", StringComparison.Ordinal) ? "object_kind" : "event_name"] = name,
            ["project_id"] = projectId,
            ["project"] = project,
            ["path_with_namespace"] = pathTop,
            ["old_path_with_namespace"] = oldPath,
            ["ref"] = @ref,
            ["before"] = before,
            ["after"] = after,
            ["key"] = key,
            ["id"] = id,
            ["username"] = username,
            ["path"] = pathTop,
            ["size"] = size,
            ["sha256"] = sha,
            ["full_path"] = fullPath,
            ["old_full_path"] = oldPath,
            ["changes"] = new JsonArray(changes.Select(c => (JsonNode)c).ToArray()),
        }.ToJsonString();

    [TestMethod]
    public void WhatPassesValidationIsSafeAndNothingElseEscapes()
    {
        var seconds = int.TryParse(Environment.GetEnvironmentVariable("GEO_FUZZ_SECONDS"), out var s) ? s : 5;
        var validator = new SystemHookValidator();
        long samples = 0, accepted = 0;
        Payload.Sample(json =>
        {
            Interlocked.Increment(ref samples);
            SystemHookPayload? payload;
            try
            {
                payload = JsonSerializer.Deserialize<SystemHookPayload>(json, SystemHookPayload.JsonOptions);
            }
            catch (JsonException)
            {
                return; // a 400 at ingest
            }

            if (payload?.Kind is not { } kind || !HookKinds.Replicated.ContainsKey(kind) || !validator.Validate(payload).IsValid)
            {
                return; // a 4xx at ingest
            }

            Interlocked.Increment(ref accepted);

            // An oracle independent of the validators' own patterns: a path that reaches an event is plain printable ASCII.
            static void Plain(string path, string json) =>
                Assert.IsFalse(path.Any(c => c <= ' ' || c > '~'), $"a path with a space, control or non-ASCII character was accepted: {json}");
            switch (HookKinds.Map(payload, Guid.NewGuid(), DateTimeOffset.UtcNow))
            {
                case RepositoryChanged e:
                    Assert.IsNull(ProjectPath.Problem(e.PathWithNamespace), json);
                    Plain(e.PathWithNamespace, json);
                    Assert.IsTrue(e.ProjectId > 0, json);
                    break;
                case ProjectRenamed e:
                    Assert.IsNull(ProjectPath.Problem(e.PathWithNamespace), json);
                    Plain(e.PathWithNamespace, json);
                    Plain(e.OldPathWithNamespace, json);
                    Assert.IsNull(ProjectPath.Problem(e.OldPathWithNamespace), json);
                    break;
                case ProjectDestroyed e:
                    Assert.IsNull(ProjectPath.Problem(e.PathWithNamespace), json);
                    break;
                case NamespaceRenamed e:
                    Assert.IsNull(ProjectPath.NamespaceProblem(e.FullPath), json);
                    Plain(e.FullPath, json);
                    Assert.IsNull(ProjectPath.NamespaceProblem(e.OldFullPath), json);
                    break;
                case FileCreated e:
                    Assert.IsNull(FilePath.Problem(e.Path), json);
                    Plain(e.Path, json);
                    Assert.IsTrue(e.Size >= 0 && e.Sha256.Length == 64, json);
                    break;
                case FileDestroyed e:
                    Assert.IsNull(FilePath.Problem(e.Path), json);
                    break;
                case SshKeyCreated e:
                    Assert.IsTrue(SshPublicKey.TryParse($"{e.KeyType} {e.KeyBlob}", out _, out _), json);
                    Assert.IsFalse(e.Username.Any(char.IsControl) || e.Username.Contains(' '), json);
                    break;
                case SshKeyDestroyed e:
                    Assert.IsTrue(e.KeyId > 0, json);
                    break;
            }
        }, time: seconds);

        // The property is only worth something if the generator reaches the accepting side too.
        Console.WriteLine($"fuzz: {samples} payloads in {seconds} s, {accepted} accepted and mapped");
        Assert.IsTrue(accepted > 0, $"none of {samples} generated payloads passed validation: the fuzz tests nothing");
    }
}
