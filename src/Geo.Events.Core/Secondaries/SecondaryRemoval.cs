using Dapper;
using Geo.Events.Contracts.Api;
using Geo.Events.Core.Messaging;
using Npgsql;
using RabbitMQ.Client;

namespace Geo.Events.Core.Secondaries;

/// <summary>
/// <c>geo-admin secondaries remove</c>, run by geo-admin on the database and broker or by geo-primary's admin API:
/// the secondary's token is revoked first (from then on it cannot report or download, even if the broker step
/// fails), then its queues and their exchanges are deleted, and the removal is recorded in <c>admin_actions</c>.
/// </summary>
public sealed class SecondaryRemoval(NpgsqlDataSource dataSource, RabbitMqOptions rabbit)
{
    /// <summary>The redelivery delays geo-secondary uses unless Retry:Delays says otherwise; their queues go too.</summary>
    private static readonly TimeSpan[] DefaultDelays = Durations.ParseList("10s,1m,10m,1h");

    /// <summary>Null when no secondary of that name is registered.</summary>
    public async Task<RemovedSecondary?> RemoveAsync(string name, string actor, CancellationToken ct)
    {
        if (!await new SecondaryStore(dataSource).RemoveAsync(name, ct))
        {
            return null;
        }

        await using var broker = await rabbit.ConnectAsync("geo secondaries remove", ct);
        await using var channel = await broker.CreateChannelAsync(cancellationToken: ct);
        var queues = new[] { SecondaryTopology.Queue(name), SecondaryTopology.ErrorQueue(name), SecondaryTopology.SkippedQueue(name) }
            .Concat(DefaultDelays.Select(d => SecondaryTopology.DelayQueue(name, d)));
        uint dropped = 0;
        foreach (var queue in queues)
        {
            dropped += await channel.QueueDeleteAsync(queue, ifUnused: false, ifEmpty: false, cancellationToken: ct);
            await channel.ExchangeDeleteAsync(queue, ifUnused: false, cancellationToken: ct);
        }

        await using (var connection = await dataSource.OpenConnectionAsync(ct))
        {
            await connection.ExecuteAsync(new CommandDefinition(
                "INSERT INTO admin_actions (actor, action, target, detail) VALUES (@actor, 'secondary-remove', @name, @detail)",
                new { actor, name, detail = $"{dropped} undelivered messages dropped" }, cancellationToken: ct));
        }

        return new RemovedSecondary { Name = name, Dropped = dropped, RemovedBy = actor };
    }

    /// <summary>Every registered secondary (or the one named), as geo-admin lists and shows them; with its queue depth when asked.</summary>
    public static async Task<IReadOnlyList<RegisteredSecondary>> ListAsync(NpgsqlDataSource dataSource, RabbitMqOptions? rabbit, string? name, CancellationToken ct)
    {
        var rows = await new SecondaryStore(dataSource).RowsAsync(name, ct);
        var queued = rabbit is null ? [] : await SecondaryHealthCheck.QueueDepthsAsync(rabbit, rows.Select(r => r.Name).ToList(), ct);
        return rows.Select(r => new RegisteredSecondary
        {
            Name = r.Name,
            Url = r.Url,
            Namespaces = r.Namespaces,
            RegisteredAt = r.RegisteredAt,
            LastHeartbeatAt = r.LastHeartbeatAt,
            HeartbeatAgeSeconds = r.HeartbeatAgeSeconds,
            Queued = queued.GetValueOrDefault(r.Name),
            Status = r.Status,
        }).ToList();
    }
}
