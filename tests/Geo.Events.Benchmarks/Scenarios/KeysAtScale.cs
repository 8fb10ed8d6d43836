using System.Diagnostics;
using System.Text.Json.Nodes;
using Geo.Events.Core.Messaging;
using Geo.Events.Testing;
using Npgsql;
using NpgsqlTypes;

namespace Geo.Events.Benchmarks.Scenarios;

/// <summary>
/// A secondary that already holds many keys (and writes them all to authorized_keys) takes a stream of key
/// events; and what sshd's AuthorizedKeysCommand costs per login, as the query and as the whole command.
/// </summary>
public static class KeysAtScale
{
    public static async Task PreloadAsync(GeoSite site, string secondary, int keys)
    {
        await using var connection = new NpgsqlConnection(TestServers.ConnectionString(site.SecondaryDatabase(secondary)));
        await connection.OpenAsync();
        await using var import = await connection.BeginBinaryImportAsync(
            "COPY ssh_keys (key_id, username, key_type, key_blob, fingerprint, sequence, destroyed) FROM STDIN (FORMAT BINARY)");
        for (var i = 0; i < keys; i++)
        {
            var key = Core.Keys.SshPublicKey.Parse(TestKeys.RandomEd25519());
            await import.StartRowAsync();
            await import.WriteAsync(5_000_000L + i, NpgsqlDbType.Bigint);
            await import.WriteAsync("preloaded", NpgsqlDbType.Text);
            await import.WriteAsync(key.Type, NpgsqlDbType.Text);
            await import.WriteAsync(key.Base64, NpgsqlDbType.Text);
            await import.WriteAsync(key.Fingerprint, NpgsqlDbType.Text);
            await import.WriteAsync(0L, NpgsqlDbType.Bigint);
            await import.WriteAsync(false, NpgsqlDbType.Boolean);
        }

        await import.CompleteAsync();
    }

    /// <summary>
    /// Posts <paramref name="events"/> key_create hooks (ids from <paramref name="firstId"/>) at up to
    /// <paramref name="perSecond"/>; returns events per second from the first post until authorized_keys holds a
    /// line for every one of them (the moment sshd would let them in), not until the registry has the rows.
    /// </summary>
    public static async Task<(double InFile, double InRegistry)> AppliedPerSecondAsync(GeoSite site, string secondary, int events, int perSecond, string authorizedKeys, long firstId)
    {
        var keys = Enumerable.Range(0, events).Select(_ => TestKeys.RandomEd25519()).ToArray();
        var clock = Stopwatch.StartNew();
        await PostAsync(site, keys, perSecond, firstId);
        var (inFile, inRegistry) = await UntilAppliedAsync(site, secondary, keys, authorizedKeys, firstId, clock);
        return (events / inFile.TotalSeconds, events / inRegistry.TotalSeconds);
    }

    /// <summary>
    /// The apply side alone in a process that has run a while: geo-secondary is paused (SIGSTOP) while
    /// <paramref name="events"/> key_create hooks are recorded and published into its queue, then resumed. Returns events
    /// per second from the resume until authorized_keys holds every one: what a running secondary applies when it has a
    /// backlog, without the JIT's work of a freshly started process (<see cref="BacklogAppliedPerSecondAsync"/>).
    /// </summary>
    public static async Task<double> PausedBacklogAppliedPerSecondAsync(GeoSite site, string secondary, int events, string authorizedKeys, long firstId)
    {
        var process = site.Secondary(secondary);
        process.Pause();
        try
        {
            var keys = await QueuedAsync(site, secondary, events, firstId);
            var clock = Stopwatch.StartNew();
            process.Resume();
            var (inFile, _) = await UntilAppliedAsync(site, secondary, keys, authorizedKeys, firstId, clock);
            return events / inFile.TotalSeconds;
        }
        finally
        {
            process.Resume(); // also when the queue never filled: the scenario goes on with this process
        }
    }

    /// <summary>
    /// The apply side alone: with the secondary stopped, <paramref name="events"/> key_create hooks are recorded and
    /// published into its queue; then <paramref name="start"/> starts it again and it takes the backlog. Returns events
    /// per second from the moment the first of them is in its registry until authorized_keys holds every one, i.e.
    /// without the hooks' pace and without the process's start. The process is cold (its code not yet compiled by the
    /// JIT's later tiers), as after any restart with a backlog.
    /// </summary>
    public static async Task<double> BacklogAppliedPerSecondAsync(GeoSite site, string secondary, int events, string authorizedKeys, long firstId, Action start)
    {
        await site.KillSecondaryAsync(secondary);
        var keys = await QueuedAsync(site, secondary, events, firstId);
        start();
        await GeoSite.WaitUntilAsync(async () =>
        {
            try
            {
                return await InRegistryAsync(site, secondary, firstId, events) > 0;
            }
            catch (NpgsqlException)
            {
                return false; // the pool of a database a killed process left: retried
            }
        }, TimeSpan.FromMinutes(2), () => "the restarted secondary never applied the first key event");
        var clock = Stopwatch.StartNew();
        var (inFile, _) = await UntilAppliedAsync(site, secondary, keys, authorizedKeys, firstId, clock);
        return events / inFile.TotalSeconds;
    }

    /// <summary>
    /// Posts <paramref name="events"/> key_create hooks (ids from <paramref name="firstId"/>) for a secondary that is not
    /// consuming, and waits until its queue holds them all (ready, or delivered and not yet acknowledged); returns the keys.
    /// </summary>
    private static async Task<string[]> QueuedAsync(GeoSite site, string secondary, int events, long firstId)
    {
        // The management API's counts lag by a few seconds: the queue is first seen empty (the run before took all it
        // had), then holding the whole backlog.
        var queue = SecondaryTopology.Queue(secondary);
        await GeoSite.WaitUntilAsync(async () => (await site.QueueStatsAsync(queue)).Messages == 0, TimeSpan.FromMinutes(1),
            () => $"{queue} still holds messages from before");
        var keys = Enumerable.Range(0, events).Select(_ => TestKeys.RandomEd25519()).ToArray();
        await PostAsync(site, keys, int.MaxValue, firstId);
        await GeoSite.WaitUntilAsync(async () => (await site.QueueStatsAsync(queue)).Messages >= events, TimeSpan.FromMinutes(5),
            () => $"the {events} key events never all reached {queue}");
        return keys;
    }

    /// <summary>Posts one key_create hook per key, ids from <paramref name="firstId"/>, at up to <paramref name="perSecond"/>, 32 at a time.</summary>
    private static async Task PostAsync(GeoSite site, string[] keys, int perSecond, long firstId)
    {
        var clock = Stopwatch.StartNew();
        var posts = new List<Task>();
        using var gate = new SemaphoreSlim(32);
        for (var i = 0; i < keys.Length; i++)
        {
            var due = TimeSpan.FromSeconds((double)i / perSecond);
            await Pacing.UntilAsync(clock, due);

            await gate.WaitAsync();
            var id = firstId + i;
            var key = keys[i];
            posts.Add(Task.Run(async () =>
            {
                try
                {
                    await site.Hooks.AcceptedAsync(new JsonObject { ["event_name"] = "key_create", ["id"] = id, ["username"] = "bench", ["key"] = key });
                }
                finally
                {
                    gate.Release();
                }
            }));
        }

        await Task.WhenAll(posts);
    }

    /// <summary>
    /// Waits until the registry holds every key and then until authorized_keys does; returns both moments on
    /// <paramref name="clock"/> (the registry's is the old, early clock: rows committed, file not yet rewritten).
    /// </summary>
    private static async Task<(TimeSpan InFile, TimeSpan InRegistry)> UntilAppliedAsync(GeoSite site, string secondary, string[] keys, string authorizedKeys, long firstId, Stopwatch clock)
    {
        // Polled every 5 ms, re-read only when the file changed (each rewrite is a rename: a new inode and mtime), and only
        // once the registry holds every key: the file is written from the registry, so it cannot hold them all before, and
        // reading 100,000 lines after every rewrite would take CPU from the processes measured.
        var wanted = keys.Select(k => k.Split(' ')[1]).ToHashSet(StringComparer.Ordinal);
        var seen = (Length: -1L, Written: DateTime.MinValue);
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(5);
        TimeSpan? inRegistry = null;
        while (true)
        {
            if (inRegistry is null && await InRegistryAsync(site, secondary, firstId, keys.Length) >= keys.Length)
            {
                inRegistry = clock.Elapsed;
            }

            var info = new FileInfo(authorizedKeys);
            if (inRegistry is { } registry && info.Exists && (info.Length, info.LastWriteTimeUtc) != seen)
            {
                // The clock stops when this version of the file was seen, not once this harness has read it.
                var seenAt = clock.Elapsed;
                seen = (info.Length, info.LastWriteTimeUtc);
                if (await HoldsAllAsync(authorizedKeys, wanted))
                {
                    return (seenAt, registry);
                }
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("authorized_keys never held every key");
            }

            await Task.Delay(5);
        }
    }

    /// <summary>How many of the keys with ids <paramref name="firstId"/> to <paramref name="firstId"/> + <paramref name="count"/> - 1 the registry holds.</summary>
    private static Task<long> InRegistryAsync(GeoSite site, string secondary, long firstId, int count) =>
        site.QuerySecondaryAsync<long>(secondary, "SELECT count(*) FROM ssh_keys WHERE key_id >= @firstId AND key_id < @end", new { firstId, end = firstId + count });

    /// <summary>Whether every blob in <paramref name="blobs"/> ends a line of the file.</summary>
    private static async Task<bool> HoldsAllAsync(string path, HashSet<string> blobs)
    {
        var found = 0;
        using var reader = new StreamReader(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite));
        while (await reader.ReadLineAsync() is { } line)
        {
            if (blobs.Contains(line[(line.LastIndexOf(' ') + 1)..]))
            {
                found++;
            }
        }

        return found == blobs.Count;
    }

    /// <summary>The AuthorizedKeysCommand's query, as geo-secondary runs it, timed in milliseconds.</summary>
    public static async Task<List<double>> LookupMsAsync(GeoSite site, string secondary, int lookups)
    {
        await using var dataSource = NpgsqlDataSource.Create(TestServers.ConnectionString(site.SecondaryDatabase(secondary), pooling: true));
        var keys = new List<(string Type, string Blob, string Fingerprint)>();
        await using (var command = dataSource.CreateCommand($"SELECT key_type, key_blob, fingerprint FROM ssh_keys ORDER BY random() LIMIT {lookups}"))
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                keys.Add((reader.GetString(0), reader.GetString(1), reader.GetString(2)));
            }
        }

        var timings = new List<double>();
        foreach (var (type, blob, fingerprint) in keys)
        {
            var clock = Stopwatch.StartNew();
            await using var command = dataSource.CreateCommand(
                "SELECT key_id FROM ssh_keys WHERE fingerprint = $1 AND NOT destroyed AND key_type = $2 AND key_blob = $3 ORDER BY key_id LIMIT 1");
            command.Parameters.Add(new NpgsqlParameter { Value = fingerprint });
            command.Parameters.Add(new NpgsqlParameter { Value = type });
            command.Parameters.Add(new NpgsqlParameter { Value = blob });
            _ = await command.ExecuteScalarAsync();
            timings.Add(clock.Elapsed.TotalMilliseconds);
        }

        return timings;
    }

    /// <summary>The whole command as sshd runs it: a new geo-secondary process per login.</summary>
    public static async Task<List<double>> CommandMsAsync(GeoSite site, string secondary, int runs)
    {
        await using var connection = new NpgsqlConnection(TestServers.ConnectionString(site.SecondaryDatabase(secondary)));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT key_type, key_blob FROM ssh_keys LIMIT 1", connection);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        var (type, blob) = (reader.GetString(0), reader.GetString(1));
        var timings = new List<double>();
        for (var i = 0; i < runs; i++)
        {
            var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var arg in new[] { TestServers.SecondaryProgram, "authorized-keys", "git", type, blob })
            {
                info.ArgumentList.Add(arg);
            }

            info.Environment["GEO_ConnectionStrings__Postgres"] = TestServers.ConnectionString(site.SecondaryDatabase(secondary), pooling: true);
            var clock = Stopwatch.StartNew();
            using var process = Process.Start(info)!;
            var output = await process.StandardOutput.ReadToEndAsync();
            await process.WaitForExitAsync();
            timings.Add(clock.Elapsed.TotalMilliseconds);
            if (!output.Contains("key-", StringComparison.Ordinal))
            {
                throw new InvalidOperationException("geo-secondary authorized-keys did not find a preloaded key: " + output + await process.StandardError.ReadToEndAsync());
            }
        }

        return timings;
    }
}
