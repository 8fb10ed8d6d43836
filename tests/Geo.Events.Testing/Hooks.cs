using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Geo.Events.Testing;

/// <summary>Builds GitLab's system-hook payloads (Administration → System hooks) and posts them to geo-primary.</summary>
public sealed class Hooks(HttpClient http, string token)
{
    /// <summary>A key_create or key_destroy system hook as GitLab sends it.</summary>
    public static JsonObject Key(string eventName, long id, string key, string username = "jsmith") => new()
    {
        ["event_name"] = eventName,
        ["created_at"] = "2026-11-25 10:00:00 UTC",
        ["updated_at"] = "2026-11-25T10:00:00Z",
        ["username"] = username,
        ["user_id"] = 7,
        ["key"] = key,
        ["id"] = id,
    };

    public static JsonObject Push(string kind, long projectId, string path, string @ref, string before, string after) => new()
    {
        ["object_kind"] = kind,
        ["event_name"] = kind,
        ["before"] = before,
        ["after"] = after,
        ["ref"] = @ref,
        ["checkout_sha"] = after,
        ["message"] = null,
        ["user_id"] = 4,
        ["user_name"] = "John Smith",
        ["user_email"] = "john@example.com",
        ["user_avatar"] = "https://example.com/avatar.png",
        ["project_id"] = projectId,
        ["project"] = Project(projectId, path),
        ["commits"] = new JsonArray(),
        ["total_commits_count"] = 0,
        ["repository"] = new JsonObject { ["name"] = path.Split('/')[^1] },
    };

    /// <summary>
    /// A repository_update; a path ending in <c>.wiki</c> is sent as a push to that project's wiki, with the wiki's hook
    /// attributes as its <c>project</c> (ProjectWiki#hook_attrs: no id, no name).
    /// </summary>
    public static JsonObject RepositoryUpdate(long projectId, string path, params (string Ref, string Before, string After)[] changes) => new()
    {
        ["event_name"] = "repository_update",
        ["user_id"] = 1,
        ["user_name"] = "John Smith",
        ["user_email"] = "admin@example.com",
        ["user_avatar"] = "https://example.com/avatar.png",
        ["project_id"] = projectId,
        ["project"] = path.EndsWith(".wiki", StringComparison.Ordinal) ? WikiProject(path) : Project(projectId, path),
        ["changes"] = new JsonArray(changes.Select(c => (JsonNode)new JsonObject { ["before"] = c.Before, ["after"] = c.After, ["ref"] = c.Ref }).ToArray()),
        ["refs"] = new JsonArray(changes.Select(c => (JsonNode)JsonValue.Create(c.Ref)!).ToArray()),
    };

    /// <summary>A project webhook's wiki page event, as GitLab documents it (header X-Gitlab-Event: Wiki Page Hook).</summary>
    public static JsonObject WikiPage(long projectId, string path, string action = "create") => new()
    {
        ["object_kind"] = "wiki_page",
        ["user"] = new JsonObject { ["id"] = 1, ["name"] = "Administrator", ["username"] = "root" },
        ["project"] = Project(projectId, path),
        ["wiki"] = new JsonObject
        {
            ["web_url"] = $"http://gitlab.example.com/{path}/-/wikis/home",
            ["git_ssh_url"] = $"git@gitlab.example.com:{path}.wiki.git",
            ["git_http_url"] = $"http://gitlab.example.com/{path}.wiki.git",
            ["path_with_namespace"] = path + ".wiki",
            ["default_branch"] = "main",
        },
        ["object_attributes"] = new JsonObject
        {
            ["title"] = "Awesome",
            ["content"] = "awesome content goes here",
            ["format"] = "markdown",
            ["message"] = "adding an awesome page to the wiki",
            ["slug"] = "awesome",
            ["url"] = $"http://gitlab.example.com/{path}/-/wikis/awesome",
            ["action"] = action,
        },
    };

    /// <summary>project_create, project_destroy, project_rename or project_transfer, as GitLab documents them.</summary>
    public static JsonObject ProjectEvent(string kind, long projectId, string path, string? oldPath = null)
    {
        var payload = new JsonObject
        {
            ["created_at"] = "2026-11-25T07:30:54Z",
            ["updated_at"] = "2026-11-25T07:38:08Z",
            ["event_name"] = kind,
            ["name"] = path.Split('/')[^1],
            ["owner_email"] = "johnsmith@example.com",
            ["owner_name"] = "John Smith",
            ["owners"] = new JsonArray(new JsonObject { ["name"] = "John", ["email"] = "user1@example.com" }),
            ["path"] = path.Split('/')[^1],
            ["path_with_namespace"] = path,
            ["project_id"] = projectId,
            ["project_namespace_id"] = 22,
            ["project_visibility"] = "internal",
        };
        if (oldPath is not null)
        {
            payload["old_path_with_namespace"] = oldPath;
        }

        return payload;
    }

    /// <summary>group_destroy as GitLab documents it (doc/administration/system_hooks.md).</summary>
    public static JsonObject GroupDestroy(long groupId, string fullPath) => new()
    {
        ["created_at"] = "2026-11-25T07:30:54Z",
        ["updated_at"] = "2026-11-25T07:38:08Z",
        ["event_name"] = "group_destroy",
        ["name"] = fullPath.Split('/')[^1],
        ["path"] = fullPath.Split('/')[^1],
        ["full_path"] = fullPath,
        ["group_id"] = groupId,
    };

    /// <summary>ProjectWiki#hook_attrs: what GitLab put in <c>project</c> for a wiki repository.</summary>
    private static JsonObject WikiProject(string path) => new()
    {
        ["web_url"] = $"http://gitlab.example.com/{path[..^5]}/-/wikis/home",
        ["git_ssh_url"] = $"git@gitlab.example.com:{path}.git",
        ["git_http_url"] = $"http://gitlab.example.com/{path}.git",
        ["path_with_namespace"] = path,
        ["default_branch"] = "main",
    };

    private static JsonObject Project(long id, string path) => new()
    {
        ["id"] = id,
        ["name"] = path.Split('/')[^1],
        ["description"] = "",
        ["web_url"] = $"http://gitlab.example.com/{path}",
        ["git_ssh_url"] = $"git@gitlab.example.com:{path}.git",
        ["git_http_url"] = $"http://gitlab.example.com/{path}.git",
        ["namespace"] = path.Split('/')[0],
        ["visibility_level"] = 0,
        ["path_with_namespace"] = path,
        ["default_branch"] = "main",
    };

    public async Task<HttpResponseMessage> PostAsync(JsonNode payload, string? deliveryId = null, string? tokenOverride = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/hooks/system") { Content = JsonContent.Create(payload) };
        request.Headers.Add("X-Gitlab-Event", "System Hook");
        request.Headers.Add("X-Gitlab-Token", tokenOverride ?? token);
        request.Headers.Add("X-Gitlab-Event-UUID", deliveryId ?? Guid.NewGuid().ToString());
        return await http.SendAsync(request);
    }

    /// <summary>Posts and insists on 202; returns the event's sequence.</summary>
    public async Task<long> AcceptedAsync(JsonNode payload, string? deliveryId = null)
    {
        using var response = await PostAsync(payload, deliveryId);
        var body = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != System.Net.HttpStatusCode.Accepted)
        {
            throw new InvalidOperationException($"geo-primary answered {(int)response.StatusCode}, not 202: {body}");
        }

        return JsonDocument.Parse(body).RootElement.GetProperty("id").GetInt64();
    }
}
