using System.Text.Json;
using Geo.Events.Contracts;
using Geo.Events.Primary.Hooks;

namespace Geo.Events.Tests.Hooks;

/// <summary>Payloads in the shapes GitLab documents for system hooks (Administration → System hooks).</summary>
[TestClass]
public sealed class SystemHookValidatorTests
{
    private const string Before = "95790bf891e76fee5e1747ab589903a6a1f80f22";
    private const string After = "da1560886d4f094c3e6c9ef40349f7d38b5d27d7";
    private readonly SystemHookValidator _validator = new();

    // GitLab's documented push system hook, trimmed of nothing we read.
    private const string PushPayload = """
        {
          "event_name": "push",
          "before": "95790bf891e76fee5e1747ab589903a6a1f80f22",
          "after": "da1560886d4f094c3e6c9ef40349f7d38b5d27d7",
          "ref": "refs/heads/master",
          "checkout_sha": "da1560886d4f094c3e6c9ef40349f7d38b5d27d7",
          "user_id": 4,
          "user_name": "John Smith",
          "user_email": "john@example.com",
          "user_avatar": "https://s.gravatar.com/avatar/d4c74594d841139328695756648b6bd6?s=8://s.gravatar.com/avatar/d4c74594d841139328695756648b6bd6?s=80",
          "project_id": 15,
          "project": {
            "name": "Diaspora",
            "description": "",
            "web_url": "http://example.com/mike/diaspora",
            "avatar_url": null,
            "git_ssh_url": "git@example.com:mike/diaspora.git",
            "git_http_url": "http://example.com/mike/diaspora.git",
            "namespace": "Mike",
            "visibility_level": 0,
            "path_with_namespace": "mike/diaspora",
            "default_branch": "master",
            "homepage": "http://example.com/mike/diaspora",
            "url": "git@example.com:mike/diaspora.git",
            "ssh_url": "git@example.com:mike/diaspora.git",
            "http_url": "http://example.com/mike/diaspora.git"
          },
          "repository": { "name": "Example", "url": "ssh://git@example.com/mike/diaspora.git", "description": "", "homepage": "http://example.com/mike/diaspora" },
          "commits": [
            { "id": "c5feabde2d8cd023215af4d2ceeb7a64839fc428", "message": "Add simple search to projects in public area", "timestamp": "2013-05-13T18:18:08+00:00",
              "url": "https://test.example.com/gitlab/diaspora/commit/c5feabde2d8cd023215af4d2ceeb7a64839fc428",
              "author": { "name": "Example User", "email": "user@example.com" } }
          ],
          "total_commits_count": 1
        }
        """;

    private const string RepositoryUpdatePayload = """
        {
          "event_name": "repository_update",
          "user_id": 1,
          "user_name": "John Smith",
          "user_email": "admin@example.com",
          "user_avatar": "https://s.gravatar.com/avatar/e64c7d89f26bd1972efa854d13d7dd61?s=80&d=identicon",
          "project_id": 1,
          "project": {
            "name": "Example",
            "description": "",
            "web_url": "http://example.com/jsmith/example",
            "avatar_url": null,
            "git_ssh_url": "git@example.com:jsmith/example.git",
            "git_http_url": "http://example.com/jsmith/example.git",
            "namespace": "Jsmith",
            "visibility_level": 0,
            "path_with_namespace": "jsmith/example",
            "default_branch": "master",
            "ci_config_path": null,
            "homepage": "http://example.com/jsmith/example",
            "url": "git@example.com:jsmith/example.git",
            "ssh_url": "git@example.com:jsmith/example.git",
            "http_url": "http://example.com/jsmith/example.git"
          },
          "changes": [
            { "before": "8205ea8d81ce0c6b90fbe8280d118cc9fdad6130", "after": "4045ea7a3df38697b3730a20fb73c8bed8a3e69e", "ref": "refs/heads/master" }
          ],
          "refs": [ "refs/heads/master" ]
        }
        """;

    private static SystemHookPayload Parse(string json) => JsonSerializer.Deserialize<SystemHookPayload>(json, SystemHookPayload.JsonOptions)!;

    private static string Errors(FluentValidation.Results.ValidationResult result) => string.Join("; ", result.Errors.Select(e => e.ErrorMessage));

    [TestMethod]
    public void GitLabsDocumentedPushIsValidAndMapsToOneChange()
    {
        var payload = Parse(PushPayload);
        var result = _validator.Validate(payload);
        Assert.IsTrue(result.IsValid, Errors(result));

        var evt = (RepositoryChanged)HookKinds.Map(payload, Guid.NewGuid(), DateTimeOffset.UtcNow);
        Assert.AreEqual(15L, evt.ProjectId);
        Assert.AreEqual("mike/diaspora", evt.PathWithNamespace);
        Assert.AreEqual("push", evt.Trigger);
        CollectionAssert.AreEqual(new[] { new RefChange("refs/heads/master", Before, After) }, evt.Changes.ToArray());
    }

    [TestMethod]
    public void GitLabsDocumentedRepositoryUpdateIsValidAndKeepsItsChanges()
    {
        var payload = Parse(RepositoryUpdatePayload);
        var result = _validator.Validate(payload);
        Assert.IsTrue(result.IsValid, Errors(result));

        var evt = (RepositoryChanged)HookKinds.Map(payload, Guid.NewGuid(), DateTimeOffset.UtcNow);
        Assert.AreEqual("repository_update", evt.Trigger);
        Assert.AreEqual("jsmith/example", evt.PathWithNamespace);
        Assert.AreEqual(1, evt.Changes.Count);
        Assert.AreEqual("4045ea7a3df38697b3730a20fb73c8bed8a3e69e", evt.Changes[0].After);
    }

    [TestMethod]
    public void ATagPushMustNameATag()
    {
        var payload = Parse(PushPayload.Replace("\"event_name\": \"push\"", "\"event_name\": \"tag_push\"", StringComparison.Ordinal));
        var result = _validator.Validate(payload);
        Assert.IsFalse(result.IsValid);
        StringAssert.Contains(Errors(result), "refs/tags/");

        payload.Ref = "refs/tags/v1.0.0";
        Assert.IsTrue(_validator.Validate(payload).IsValid);
    }

    [TestMethod]
    [DataRow("after", "DA1560886D4F094C3E6C9EF40349F7D38B5D27D7", "'after'")]
    [DataRow("after", "da15608", "'after'")]
    [DataRow("before", "", "'before'")]
    [DataRow("ref", "master", "'ref'")]
    [DataRow("ref", "refs/heads/a..b", "'ref'")]
    [DataRow("ref", "refs/heads/with space", "'ref'")]
    [DataRow("ref", "refs/tags/v1", "refs/heads/")]
    public void APushWithABadFieldNamesTheField(string field, string value, string expected)
    {
        var payload = Parse(PushPayload);
        switch (field)
        {
            case "after": payload.After = value; break;
            case "before": payload.Before = value; break;
            default: payload.Ref = value; break;
        }

        var result = _validator.Validate(payload);
        Assert.IsFalse(result.IsValid);
        StringAssert.Contains(Errors(result), expected);
    }

    [TestMethod]
    public void AProjectIdThatDisagreesWithTheProjectIsRejected()
    {
        var payload = Parse(PushPayload);
        payload.Project!.Id = 16;
        StringAssert.Contains(Errors(_validator.Validate(payload)), "differs");
    }

    [TestMethod]
    public void AMissingProjectIsRejected()
    {
        var payload = Parse(PushPayload);
        payload.Project = null;
        StringAssert.Contains(Errors(_validator.Validate(payload)), "'project' is required");
    }

    [TestMethod]
    public void ARepositoryUpdateWithABadChangeIsRejected()
    {
        var payload = Parse(RepositoryUpdatePayload);
        payload.Changes![0].Ref = "HEAD";
        StringAssert.Contains(Errors(_validator.Validate(payload)), "changes[].ref");

        payload = Parse(RepositoryUpdatePayload);
        payload.Changes = null;
        StringAssert.Contains(Errors(_validator.Validate(payload)), "'changes' is required");
    }

    [TestMethod]
    public void ProjectWebhookPushesAreReadThroughObjectKind()
    {
        var payload = Parse(PushPayload.Replace("\"event_name\": \"push\"", "\"object_kind\": \"push\"", StringComparison.Ordinal));
        Assert.AreEqual("push", payload.Kind);
        Assert.IsTrue(_validator.Validate(payload).IsValid);
    }

    // GitLab's documented key_create system hook (its sample key replaced by a real ed25519 key).
    private static string KeyCreatePayload(string key) => $$"""
        {
          "event_name": "key_create",
          "created_at": "2014-08-18 18:45:16 UTC",
          "updated_at": "2012-07-21T07:38:22Z",
          "username": "root",
          "key": {{JsonSerializer.Serialize(key)}},
          "id": 4
        }
        """;

    [TestMethod]
    public void GitLabsDocumentedKeyCreateMapsToParsedParts()
    {
        var payload = Parse(KeyCreatePayload(Keys.SshPublicKeyTests.Ed25519));
        var result = _validator.Validate(payload);
        Assert.IsTrue(result.IsValid, Errors(result));

        var evt = (SshKeyCreated)HookKinds.Map(payload, Guid.NewGuid(), DateTimeOffset.UtcNow);
        Assert.AreEqual(4L, evt.KeyId);
        Assert.AreEqual("root", evt.Username);
        Assert.AreEqual("ssh-ed25519", evt.KeyType);
        Assert.AreEqual(Keys.SshPublicKeyTests.Ed25519.Split(' ')[1], evt.KeyBlob);
        Assert.AreEqual("SHA256:IixCxH7Gtu5QCWuJsVhr72RU2S79tvH1LThqAlA3BEM", evt.Fingerprint);
    }

    [TestMethod]
    public void AKeyCreateWithAnInjectedOptionIsRejected()
    {
        var payload = Parse(KeyCreatePayload("command=\"/bin/sh\" " + Keys.SshPublicKeyTests.Ed25519));
        StringAssert.Contains(Errors(_validator.Validate(payload)), "starts with options");
    }

    [TestMethod]
    public void AKeyDestroyNeedsAnIdAndAPlainUsernameIfAnyButNotAValidKey()
    {
        var payload = Parse("""{"event_name":"key_destroy","username":"root","key":"whatever","id":4}""");
        Assert.IsTrue(_validator.Validate(payload).IsValid);
        var evt = (SshKeyDestroyed)HookKinds.Map(payload, Guid.NewGuid(), DateTimeOffset.UtcNow);
        Assert.AreEqual(4L, evt.KeyId);

        payload.Id = null;
        payload.Username = "two words";
        var errors = Errors(_validator.Validate(payload));
        StringAssert.Contains(errors, "'id'");
        StringAssert.Contains(errors, "'username'");
    }

    // Gitlab::HookData::KeyBuilder#user_data adds "username" only when the key belongs to a user: a deploy key's
    // key_create and key_destroy carry none (spec/lib/gitlab/hook_data/key_builder_spec.rb, "keys that do not
    // belong to a user"). An explicit "" is read as missing.
    [TestMethod]
    [DataRow("key_create", null)]
    [DataRow("key_create", "")]
    [DataRow("key_destroy", null)]
    [DataRow("key_destroy", "")]
    public void AKeyEventWithoutAUsernameIsADeployKeyAndMapsToAnEmptyUsername(string kind, string? username)
    {
        var payload = Parse(KeyCreatePayload(Keys.SshPublicKeyTests.Ed25519).Replace("\"key_create\"", $"\"{kind}\"", StringComparison.Ordinal));
        payload.Username = username;
        var result = _validator.Validate(payload);
        Assert.IsTrue(result.IsValid, Errors(result));

        var evt = HookKinds.Map(payload, Guid.NewGuid(), DateTimeOffset.UtcNow);
        var mapped = evt switch
        {
            SshKeyCreated created => created.Username,
            SshKeyDestroyed destroyed => destroyed.Username,
            _ => throw new AssertFailedException($"{kind} mapped to {evt.GetType().Name}"),
        };
        Assert.AreEqual("", mapped, "a missing username must map to an empty string, never to null");
    }

    [TestMethod]
    [DataRow("key_create", "two words")]
    [DataRow("key_create", " ")]
    [DataRow("key_create", "tab\there")]
    [DataRow("key_create", "new\nline")]
    [DataRow("key_create", "nul\u0000")]
    [DataRow("key_create", "j\u00f6rg")]
    [DataRow("key_create", "del\u007f")]
    [DataRow("key_destroy", "two words")]
    [DataRow("key_destroy", "\u202ejsmith")]
    public void AUsernameThatIsPresentMustBePrintableAsciiWithoutSpaces(string kind, string username)
    {
        var payload = Parse(KeyCreatePayload(Keys.SshPublicKeyTests.Ed25519).Replace("\"key_create\"", $"\"{kind}\"", StringComparison.Ordinal));
        payload.Username = username;
        var result = _validator.Validate(payload);
        Assert.IsFalse(result.IsValid, $"username {JsonSerializer.Serialize(username)} was accepted");
        StringAssert.Contains(Errors(result), "'username' must be printable ASCII without spaces");
    }

    [TestMethod]
    [DataRow("key_create")]
    [DataRow("key_destroy")]
    public void AUsernameIsAtMost255Characters(string kind)
    {
        var payload = Parse(KeyCreatePayload(Keys.SshPublicKeyTests.Ed25519).Replace("\"key_create\"", $"\"{kind}\"", StringComparison.Ordinal));
        payload.Username = new string('u', 255);
        Assert.IsTrue(_validator.Validate(payload).IsValid);

        payload.Username = new string('u', 256);
        StringAssert.Contains(Errors(_validator.Validate(payload)), "'username'");
    }

    // GitLab's documented project_rename / project_transfer system hooks.
    private static string ProjectPayload(string kind, string path, string? oldPath) => $$"""
        {
          "created_at": "2012-07-21T07:30:58Z",
          "updated_at": "2012-07-21T07:38:22Z",
          "event_name": "{{kind}}",
          "name": "underscore",
          "path": "underscore",
          "path_with_namespace": {{JsonSerializer.Serialize(path)}},
          "project_id": 73,
          "owner_name": "John Smith",
          "owner_email": "johnsmith@example.com",
          "owners": [{"name": "John", "email": "user1@example.com"}],
          "project_visibility": "internal"{{(oldPath is null ? "" : $",\n  \"old_path_with_namespace\": {JsonSerializer.Serialize(oldPath)}")}}
        }
        """;

    [TestMethod]
    [DataRow("project_rename")]
    [DataRow("project_transfer")]
    public void GitLabsDocumentedRenameAndTransferMapToProjectRenamed(string kind)
    {
        var payload = Parse(ProjectPayload(kind, "scores/underscore", "jsmith/overscore"));
        var result = _validator.Validate(payload);
        Assert.IsTrue(result.IsValid, Errors(result));

        var evt = (ProjectRenamed)HookKinds.Map(payload, Guid.NewGuid(), DateTimeOffset.UtcNow);
        Assert.AreEqual(73L, evt.ProjectId);
        Assert.AreEqual("scores/underscore", evt.PathWithNamespace);
        Assert.AreEqual("jsmith/overscore", evt.OldPathWithNamespace);
        Assert.AreEqual(kind, evt.Trigger);
    }

    [TestMethod]
    public void ProjectCreateIsASyncAndProjectDestroyItsOwnEvent()
    {
        var created = HookKinds.Map(Parse(ProjectPayload("project_create", "jsmith/underscore", null)), Guid.NewGuid(), DateTimeOffset.UtcNow);
        Assert.AreEqual("project_create", ((RepositoryChanged)created).Trigger);
        var destroyed = HookKinds.Map(Parse(ProjectPayload("project_destroy", "jsmith/underscore", null)), Guid.NewGuid(), DateTimeOffset.UtcNow);
        Assert.AreEqual(73L, ((ProjectDestroyed)destroyed).ProjectId);
    }

    [TestMethod]
    [DataRow("project_rename", "scores/underscore", null, "'old_path_with_namespace' is empty")]
    [DataRow("project_transfer", "scores/underscore", "../etc", "'old_path_with_namespace'")]
    [DataRow("project_rename", "scores/../../x", "jsmith/overscore", "'path_with_namespace'")]
    [DataRow("project_destroy", "/abs/path", null, "'path_with_namespace'")]
    [DataRow("project_create", "only-one-segment", null, "namespace/project")]
    public void ProjectEventsWithBadPathsAreRejected(string kind, string path, string? oldPath, string expected)
    {
        StringAssert.Contains(Errors(_validator.Validate(Parse(ProjectPayload(kind, path, oldPath)))), expected);
    }

    // GitLab's documented wiki page webhook, trimmed of the page content we do not read.
    private const string WikiPagePayload = """
        {
          "object_kind": "wiki_page",
          "user": { "id": 1, "name": "Administrator", "username": "root" },
          "project": { "id": 1, "name": "awesome-project", "web_url": "http://example.com/root/awesome-project",
                       "namespace": "root", "path_with_namespace": "root/awesome-project", "default_branch": "master" },
          "wiki": { "web_url": "http://example.com/root/awesome-project/-/wikis/home",
                    "git_ssh_url": "git@example.com:root/awesome-project.wiki.git",
                    "git_http_url": "http://example.com/root/awesome-project.wiki.git",
                    "path_with_namespace": "root/awesome-project.wiki", "default_branch": "master" },
          "object_attributes": { "title": "Awesome", "content": "awesome content goes here", "format": "markdown",
                                 "message": "adding an awesome page to the wiki", "slug": "awesome",
                                 "url": "http://example.com/root/awesome-project/-/wikis/awesome", "action": "create" }
        }
        """;

    [TestMethod]
    public void GitLabsDocumentedWikiPageEventIsASyncOfTheProjectsWiki()
    {
        var payload = Parse(WikiPagePayload);
        var result = _validator.Validate(payload);
        Assert.IsTrue(result.IsValid, Errors(result));
        var evt = (RepositoryChanged)HookKinds.Map(payload, Guid.NewGuid(), DateTimeOffset.UtcNow);
        Assert.AreEqual(RepositoryKind.Wiki, evt.Kind);
        Assert.AreEqual(1L, evt.ProjectId);
        Assert.AreEqual("root/awesome-project", evt.PathWithNamespace);
    }

    [TestMethod]
    public void AWikiPageEventWhoseWikiIsAnotherProjectsIsRejected()
    {
        var payload = Parse(WikiPagePayload.Replace("\"root/awesome-project.wiki\"", "\"root/other.wiki\"", StringComparison.Ordinal));
        StringAssert.Contains(Errors(_validator.Validate(payload)), "'wiki.path_with_namespace'");
    }

    [TestMethod]
    public void ARepositoryUpdateOfAWikiRepositoryIsTheProjectsWiki()
    {
        // The wiki's hook attributes (ProjectWiki#hook_attrs) in place of a project's: no id, no name.
        var payload = Parse(RepositoryUpdatePayload);
        payload.Project = new HookProject { PathWithNamespace = "jsmith/example.wiki", DefaultBranch = "master" };
        Assert.IsTrue(_validator.Validate(payload).IsValid);
        var evt = (RepositoryChanged)HookKinds.Map(payload, Guid.NewGuid(), DateTimeOffset.UtcNow);
        Assert.AreEqual(RepositoryKind.Wiki, evt.Kind);
        Assert.AreEqual("jsmith/example", evt.PathWithNamespace);
    }

    [TestMethod]
    public void AProjectWhosePathEndsInWikiIsThatProject()
    {
        // GitLab lets a project be called 'example.wiki' when its namespace has no 'example'; its hooks carry a full project.
        var payload = Parse(RepositoryUpdatePayload.Replace("\"path_with_namespace\": \"jsmith/example\"", "\"path_with_namespace\": \"jsmith/example.wiki\"", StringComparison.Ordinal));
        Assert.IsTrue(_validator.Validate(payload).IsValid);
        var evt = (RepositoryChanged)HookKinds.Map(payload, Guid.NewGuid(), DateTimeOffset.UtcNow);
        Assert.AreEqual(RepositoryKind.Project, evt.Kind);
        Assert.AreEqual("jsmith/example.wiki", evt.PathWithNamespace);
    }

    [TestMethod]
    public void GitLabsDocumentedGroupRenameMapsToNamespaceRenamed()
    {
        var payload = Parse("""
            {"created_at": "2017-10-30T15:58:38Z", "updated_at": "2017-11-01T10:51:03Z", "event_name": "group_rename",
             "name": "Better Name", "path": "better-name", "full_path": "parent-group/better-name", "group_id": 64,
             "old_path": "old-name", "old_full_path": "parent-group/old-name"}
            """);
        Assert.IsTrue(_validator.Validate(payload).IsValid);
        var evt = (NamespaceRenamed)HookKinds.Map(payload, Guid.NewGuid(), DateTimeOffset.UtcNow);
        Assert.AreEqual("parent-group/better-name", evt.FullPath);
        Assert.AreEqual("parent-group/old-name", evt.OldFullPath);

        payload.OldFullPath = "../../etc";
        StringAssert.Contains(Errors(_validator.Validate(payload)), "'old_full_path'");
    }

    [TestMethod]
    public void GitLabsDocumentedUserRenameMovesThePersonalNamespace()
    {
        var payload = Parse("""
            {"event_name": "user_rename", "created_at": "2017-11-01T11:21:04Z", "updated_at": "2017-11-01T14:04:47Z",
             "name": "new-name", "email": "best-email@example.tld", "user_id": 58, "username": "new-exciting-name",
             "old_username": "old-boring-name"}
            """);
        Assert.IsTrue(_validator.Validate(payload).IsValid, Errors(_validator.Validate(payload)));
        var evt = (NamespaceRenamed)HookKinds.Map(payload, Guid.NewGuid(), DateTimeOffset.UtcNow);
        Assert.AreEqual("new-exciting-name", evt.FullPath);
        Assert.AreEqual("old-boring-name", evt.OldFullPath);
        Assert.AreEqual("user_rename", evt.Trigger);

        payload.OldUsername = "group/user";
        StringAssert.Contains(Errors(_validator.Validate(payload)), "'old_username' must be a single path segment");
        payload.OldUsername = null;
        StringAssert.Contains(Errors(_validator.Validate(payload)), "'old_username' is empty");
    }

    [TestMethod]
    [DataRow("""{"event_name":"push","object_kind":"push"}""", "push")]
    [DataRow("""{"object_kind":"merge_request","changes":{"title":{"previous":"a","current":"b"}}}""", "merge_request")]
    [DataRow("""{"event_name":"","object_kind":"wiki_page"}""", "wiki_page")]
    [DataRow("""{"event_name":null,"project":{"event_name":"push"}}""", null)]
    [DataRow("""{"project_id":1}""", null)]
    public void TheKindIsReadFromTheTopLevelAlone(string body, string? kind) =>
        Assert.AreEqual(kind, HookKinds.KindOf(System.Text.Encoding.UTF8.GetBytes(body)));

    [TestMethod]
    [DataRow("")]
    [DataRow("[]")]
    [DataRow("""{"event_name":5}""")]
    [DataRow("""{"event_name":"push"} x""")]
    [DataRow("""{"event_name":"push",""")]
    public void ABodyWithoutAReadableKindIsNotJson(string body) =>
        Assert.Throws<JsonException>(() => HookKinds.KindOf(System.Text.Encoding.UTF8.GetBytes(body)), body);

    [TestMethod]
    [DataRow("upload_create", "a/b.png", 10L, "a", "'sha256'")]
    [DataRow("upload_create", "a/b.png", -1L, "0000000000000000000000000000000000000000000000000000000000000000", "'size'")]
    [DataRow("lfs_object_create", "../b", 10L, "0000000000000000000000000000000000000000000000000000000000000000", "'path'")]
    [DataRow("avatar_destroy", "", null, null, "'path' is empty")]
    public void FileEventsAreCheckedField(string name, string path, long? size, string? sha, string expected)
    {
        var payload = new SystemHookPayload { EventName = name, Path = path, Size = size, Sha256 = sha };
        StringAssert.Contains(Errors(_validator.Validate(payload)), expected);
    }

    /// <summary>
    /// Found by the fuzz: FluentValidation's RuleForEach(...).ChildRules skips a null item, so a null change passed
    /// and the mapping threw (ingest answered 500 instead of 422).
    /// </summary>
    [TestMethod]
    public void ANullChangeInARepositoryUpdateIsRejected()
    {
        var payload = Parse("""
            {"event_name":"repository_update","project_id":1,"project":{"id":1,"path_with_namespace":"jsmith/example"},
             "changes":[{"before":"8205ea8d81ce0c6b90fbe8280d118cc9fdad6130","after":"4045ea7a3df38697b3730a20fb73c8bed8a3e69e","ref":"refs/heads/main"},null]}
            """);
        var result = _validator.Validate(payload);
        Assert.IsFalse(result.IsValid, "a null change was accepted (and the mapping would throw on it)");
        Assert.IsTrue(result.Errors.Any(e => e.ErrorMessage == "'changes[]' must be objects with ref, before and after"), string.Join("; ", result.Errors));
    }
}
