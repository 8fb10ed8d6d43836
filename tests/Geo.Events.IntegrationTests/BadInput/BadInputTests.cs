using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Geo.Events.Testing;

namespace Geo.Events.IntegrationTests.BadInput;

/// <summary>
/// Every case in <c>BadInput/hooks.jsonl</c> (path traversal in project and file paths, SSH key option
/// injection, mismatched key types, tokens, unknown events, malformed and deeply nested JSON, numbers out of
/// range, ref tricks, oversized bodies) is posted over real HTTP to a real geo-primary. Each must get its
/// 4xx with its reason, leave the event log empty, and log no unhandled exception.
/// </summary>
[TestClass]
public sealed partial class BadInputTests
{
    private static GeoSite _site = null!;

    public sealed record Case(
        string Name, int Status, string Reason, JsonNode? Body, string? Raw, string? Token, bool HasToken, string? DeliveryId, int? Oversize)
    {
        public override string ToString() => Name;
    }

    public static IEnumerable<object[]> Cases()
    {
        var file = Path.Combine(TestServers.RepoRoot, "tests", "Geo.Events.IntegrationTests", "BadInput", "hooks.jsonl");
        foreach (var line in File.ReadLines(file).Where(l => l.Length > 0))
        {
            var node = JsonNode.Parse(line)!.AsObject();
            yield return
            [
                new Case(
                    (string)node["name"]!, (int)node["status"]!, (string)node["reason"]!, node["body"]?.DeepClone(), (string?)node["raw"],
                    (string?)node["token"], !node.ContainsKey("token") || node["token"] is not null, (string?)node["deliveryId"], (int?)node["oversize"]),
            ];
        }
    }

    public static string CaseName(System.Reflection.MethodInfo _, object?[]? data) => ((Case)data![0]!).Name;

    [ClassInitialize]
    public static async Task StartAsync(TestContext _) => _site = await GeoSite.StartAsync(["tokyo"], startSecondaries: false);

    [ClassCleanup]
    public static async Task StopAsync() => await _site.DisposeAsync();

    /// <summary>
    /// A field name (<c>path_with_namespace</c>, <c>'key'</c>) must be the field the message is about: the
    /// message starts with it, quoted, alone or under its parent object (<c>'project.path_with_namespace'</c>),
    /// so <c>path_with_namespace</c> is not satisfied by <c>'old_path_with_namespace'</c>. Anything else is
    /// a phrase of the explanation, found in one message (not anywhere in the body).
    /// </summary>
    private static bool GivesReason(string message, string reason)
    {
        var field = FieldName().Match(reason);
        return field.Success
            ? Regex.IsMatch(message, $@"^'(?:[a-z_]+\.)*{Regex.Escape(field.Groups["name"].Value)}' ", RegexOptions.CultureInvariant)
            : message.Contains(reason, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"^(?:'(?<name>[a-z][a-z0-9_]*)'|(?<name>[a-z]+(?:_[a-z]+)+))$")]
    private static partial Regex FieldName();

    [TestMethod]
    public void ThereAreAtLeastTwoHundredCases() => Assert.IsTrue(Cases().Count() >= 200, $"{Cases().Count()} cases");

    [TestMethod]
    [DynamicData(nameof(Cases), DynamicDataDisplayName = nameof(CaseName))]
    public async Task IsRejectedWithItsReasonAndLeavesNoTrace(Case c)
    {
        var before = await _site.EventCountAsync();
        var body = c.Oversize is { } size ? new string(' ', size) : c.Raw ?? c.Body?.ToJsonString() ?? "";
        using var request = new HttpRequestMessage(HttpMethod.Post, "/hooks/system") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        if (c.HasToken)
        {
            request.Headers.TryAddWithoutValidation("X-Gitlab-Token", c.Token ?? GeoSite.Token);
        }

        request.Headers.TryAddWithoutValidation("X-Gitlab-Event", "System Hook");
        request.Headers.TryAddWithoutValidation("X-Gitlab-Event-UUID", c.DeliveryId ?? Guid.NewGuid().ToString());
        using var response = await _site.Http.SendAsync(request);
        var answer = await response.Content.ReadAsStringAsync();

        Assert.AreEqual((HttpStatusCode)c.Status, response.StatusCode, $"{c.Name}: {answer}");
        Assert.AreEqual("application/problem+json", response.Content.Headers.ContentType?.MediaType, c.Name);
        var problem = JsonNode.Parse(answer)!.AsObject(); // a well-formed problem document, whatever the input was
        var reasons = problem["errors"] is JsonObject errors
            ? errors.SelectMany(e => e.Value!.AsArray()).Select(m => (string)m!).ToList()
            : new[] { (string?)problem["title"], (string?)problem["detail"] }.OfType<string>().ToList();
        Assert.IsTrue(reasons.Any(r => GivesReason(r, c.Reason)), $"{c.Name}: no reason in the answer is about {c.Reason}: {answer}");
        Assert.AreEqual(before, await _site.EventCountAsync(), $"{c.Name} reached the event log");
        var log = _site.Primary.Log();
        Assert.IsFalse(log.Contains("Unhandled exception", StringComparison.Ordinal) || log.Contains("fail: Microsoft.AspNetCore", StringComparison.Ordinal),
            $"{c.Name}: geo-primary logged an unhandled exception");
        Assert.IsFalse(log.Contains(GeoSite.Token, StringComparison.Ordinal), $"{c.Name}: a token reached the log");
    }
}
