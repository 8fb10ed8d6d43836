using System.Net;
using System.Net.Sockets;

namespace Geo.Events.Testing;

/// <summary>
/// A TCP forwarder on a loopback port that a test can cut (listener closed, every connection reset: the port refuses,
/// as behind a firewall that rejects) and restore on the same port: a WAN link between two brokers.
/// </summary>
public sealed class TcpLink : IAsyncDisposable
{
    private readonly int _upstream;
    private readonly List<TcpClient> _connections = [];
    private TcpListener? _listener;
    private CancellationTokenSource _cut = new();

    private TcpLink(int upstream, int port)
    {
        _upstream = upstream;
        Port = port;
    }

    public int Port { get; }

    public static TcpLink Start(int upstreamPort)
    {
        var link = new TcpLink(upstreamPort, GeoProcess.FreePort());
        link.Restore();
        return link;
    }

    public void Restore()
    {
        _cut = new CancellationTokenSource();
        _listener = new TcpListener(IPAddress.Loopback, Port);
        _listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        _listener.Start();
        _ = AcceptAsync(_listener, _cut.Token);
    }

    public async Task CutAsync()
    {
        await _cut.CancelAsync();
        _listener?.Stop();
        lock (_connections)
        {
            foreach (var connection in _connections)
            {
                try
                {
                    connection.Client?.LingerState = new LingerOption(true, 0); // RST, as a dropped link looks to both ends
                }
                catch (Exception e) when (e is SocketException or ObjectDisposedException)
                {
                }

                connection.Dispose();
            }

            _connections.Clear();
        }
    }

    private async Task AcceptAsync(TcpListener listener, CancellationToken cut)
    {
        while (!cut.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync(cut);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            var upstream = new TcpClient();
            try
            {
                await upstream.ConnectAsync(IPAddress.Loopback, _upstream, cut);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException)
            {
                client.Dispose();
                upstream.Dispose();
                continue;
            }

            lock (_connections)
            {
                _connections.Add(client);
                _connections.Add(upstream);
            }

            _ = PumpAsync(client, upstream, cut);
            _ = PumpAsync(upstream, client, cut);
        }
    }

    private static async Task PumpAsync(TcpClient from, TcpClient to, CancellationToken cut)
    {
        try
        {
            await from.GetStream().CopyToAsync(to.GetStream(), cut);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException or SocketException or InvalidOperationException)
        {
        }

        from.Dispose();
        to.Dispose();
    }

    public async ValueTask DisposeAsync() => await CutAsync();
}
