using System.Net;
using System.Net.Sockets;

namespace AudioConverter.Tests.Soak;

/// <summary>
/// A loopback TCP proxy in front of a backend that the soak can cut: while cut, every open connection is reset
/// and new ones are reset as soon as they arrive, so the backend is unreachable without being stopped (s3rver
/// killed in the middle of a write loses its own bucket metadata and answers "internal error" ever after).
/// </summary>
public sealed class TcpProxy : IAsyncDisposable
{
    private readonly TcpListener listener = new(IPAddress.Loopback, 0);
    private readonly int targetPort;
    private readonly CancellationTokenSource stop = new();
    private readonly List<(TcpClient Client, TcpClient Server)> connections = [];
    private readonly Task accepting;
    private volatile bool cut;
    private volatile bool midRequest;

    public TcpProxy(int targetPort)
    {
        this.targetPort = targetPort;
        listener.Start();
        accepting = Task.Run(AcceptAsync);
    }

    public int Port => ((IPEndPoint)listener.LocalEndpoint).Port;

    /// <summary>Resets every connection and refuses new ones until <see cref="Restore"/>.</summary>
    public void Cut()
    {
        cut = true;
        lock (connections)
        {
            foreach (var (client, server) in connections)
            {
                Reset(client);
                Reset(server);
            }

            connections.Clear();
        }
    }

    /// <summary>
    /// Like <see cref="Cut"/>, but new connections are accepted and reset only once the client has sent its first
    /// bytes: the client sees its established connection reset in the middle of a request (an IOException on write
    /// or read, not a refused connect), as when a backend dies under a request in flight.
    /// </summary>
    public void CutMidRequest()
    {
        midRequest = true;
        Cut();
    }

    public void Restore()
    {
        cut = false;
        midRequest = false;
    }

    private async Task AcceptAsync()
    {
        while (!stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync(stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            if (midRequest)
            {
                _ = Task.Run(() => ResetAfterFirstBytesAsync(client));
                continue;
            }

            if (cut)
            {
                Reset(client);
                continue;
            }

            _ = Task.Run(() => ForwardAsync(client));
        }
    }

    private async Task ForwardAsync(TcpClient client)
    {
        var server = new TcpClient();
        try
        {
            await server.ConnectAsync(IPAddress.Loopback, targetPort, stop.Token);
            lock (connections)
            {
                connections.Add((client, server));
            }

            var up = client.GetStream().CopyToAsync(server.GetStream(), stop.Token);
            var down = server.GetStream().CopyToAsync(client.GetStream(), stop.Token);
            await Task.WhenAny(up, down);
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
        {
            // Cut, or one side went away.
        }
        finally
        {
            lock (connections)
            {
                connections.Remove((client, server));
            }

            client.Dispose();
            server.Dispose();
        }
    }

    private async Task ResetAfterFirstBytesAsync(TcpClient client)
    {
        try
        {
            var buffer = new byte[1024];
            _ = await client.GetStream().ReadAtLeastAsync(buffer, 1, throwOnEndOfStream: false, stop.Token);
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // Gone already.
        }

        Reset(client);
        client.Dispose();
    }

    private static void Reset(TcpClient connection)
    {
        try
        {
            connection.Client.LingerState = new LingerOption(true, 0);
            connection.Client.Close();
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Already closed.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        listener.Stop();
        await accepting;
        Cut();
        stop.Dispose();
    }
}
