using System.Diagnostics;
using System.Text.Json.Nodes;
using Geo.Events.Testing;

namespace Geo.Events.Benchmarks.Scenarios;

/// <summary>
/// Several instances: how long the outbox stops when the leading geo-primary is SIGKILLed, and how many
/// repositories a site applies per second with one geo-secondary instance or two.
/// </summary>
public static class HighAvailability
{
    private static JsonObject KeyHook(long id) => new()
    {
        ["event_name"] = "key_create",
        ["id"] = id,
        ["username"] = "bench",
        ["key"] = TestKeys.RandomEd25519(),
    };

    private static async Task<string?> RoleAsync(Uri url)
    {
        using var http = new HttpClient { BaseAddress = url, Timeout = TimeSpan.FromSeconds(2) };
        try
        {
            return JsonNode.Parse(await http.GetStringAsync("/health/ready"))?["role"]?.GetValue<string>();
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException)
        {
            return null;
        }
    }

    /// <summary>
    /// Two geo-primary instances ("" is the site's own, "b" the other); <paramref name="kills"/> times: the leader is
    /// SIGKILLed, a hook is posted to the survivor at once, then the time until the survivor says it leads (takeover)
    /// and until that hook is published (publishing pause). The killed instance is started again before the next kill.
    /// </summary>
    public static async Task<(List<double> TakeoverMs, List<double> PublishPauseMs)> FailoverAsync(GeoSite site, int kills, long firstKeyId)
    {
        var urls = new Dictionary<string, Uri> { [""] = site.PrimaryUrl, ["b"] = await site.StartPrimaryAsync("b") };
        var takeovers = new List<double>();
        var pauses = new List<double>();
        for (var k = 0; k < kills; k++)
        {
            string? leader = null;
            await GeoSite.WaitUntilAsync(async () =>
            {
                var roles = new Dictionary<string, string?>();
                foreach (var (name, url) in urls)
                {
                    roles[name] = await RoleAsync(url);
                }

                leader = roles.Count(r => r.Value == "leader") == 1 && roles.Count(r => r.Value == "standby") == 1
                    ? roles.Single(r => r.Value == "leader").Key
                    : null;
                return leader is not null;
            }, TimeSpan.FromMinutes(1), () => "not one leader and one standby");
            var survivor = urls.Keys.Single(n => n != leader);
            using var http = new HttpClient { BaseAddress = urls[survivor], Timeout = TimeSpan.FromSeconds(30) };
            var hooks = new Hooks(http, GeoSite.Token);
            await hooks.AcceptedAsync(KeyHook(firstKeyId + (k * 10))); // warm: the survivor has accepted hooks before

            var clock = Stopwatch.StartNew();
            await (leader == "" ? site.KillPrimaryAsync() : site.KillPrimaryAsync(leader!));
            var sequence = await hooks.AcceptedAsync(KeyHook(firstKeyId + (k * 10) + 1));
            double? takeover = null, published = null;
            while (takeover is null || published is null)
            {
                if (takeover is null && await RoleAsync(urls[survivor]) == "leader")
                {
                    takeover = clock.Elapsed.TotalMilliseconds;
                }

                if (published is null && await site.QueryPrimaryAsync<bool>("SELECT published_at IS NOT NULL FROM event_log WHERE id = @sequence", new { sequence }))
                {
                    published = clock.Elapsed.TotalMilliseconds;
                }

                if (clock.Elapsed > TimeSpan.FromMinutes(1))
                {
                    throw new TimeoutException("the surviving geo-primary did not take over within a minute");
                }

                await Task.Delay(10);
            }

            takeovers.Add(takeover.Value);
            pauses.Add(published.Value);
            await site.StartPrimaryAsync(leader == "" ? null : leader);
        }

        await site.KillPrimaryAsync("b");
        return (takeovers, pauses);
    }

    /// <summary>
    /// <paramref name="repositories"/> new repositories, one commit each, announced by their push hooks to the site
    /// "tokyo" whose running instances clone them: repositories mirrored per second, from the first hook to the last mirror.
    /// </summary>
    public static async Task<double> MirroredPerSecondAsync(GeoSite site, int repositories, long firstProjectId)
    {
        var repos = Enumerable.Range(0, repositories)
            .Select(i => new BareRepository(Path.Combine(site.StorageRoot, "ha", $"r{firstProjectId + i}.git"), $"ha/r{firstProjectId + i}"))
            .ToArray();
        try
        {
            var pushes = repos.Select(r => r.Push()).ToArray();
            var clock = Stopwatch.StartNew();
            await Parallel.ForEachAsync(Enumerable.Range(0, repositories), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, _) =>
                await site.Hooks.AcceptedAsync(Hooks.Push("push", firstProjectId + i, repos[i].PathWithNamespace, "refs/heads/main", pushes[i].Before, pushes[i].After)));
            foreach (var repo in repos)
            {
                await GeoSite.WaitUntilAsync(
                    () => Task.FromResult(BareRepository.ReadRef(site.MirrorPath("tokyo", repo.PathWithNamespace), "refs/heads/main") == repo.Head),
                    TimeSpan.FromMinutes(5), () => $"tokyo never mirrored {repo.PathWithNamespace}");
            }

            return repositories / clock.Elapsed.TotalSeconds;
        }
        finally
        {
            foreach (var repo in repos)
            {
                repo.Dispose();
            }
        }
    }
}
