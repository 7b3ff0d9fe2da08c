using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace AudioConverter.Tests.Security;

/// <summary>A loopback TCP port that records every connection made to it: proof that nothing tried to fetch a URL.</summary>
public sealed class ConnectionTrap : IDisposable
{
    private readonly TcpListener listener = new(IPAddress.Loopback, 0);
    private readonly ConcurrentQueue<string> requests = new();
    private readonly CancellationTokenSource stop = new();

    public ConnectionTrap()
    {
        listener.Start();
        Port = ((IPEndPoint)listener.LocalEndpoint).Port;
        _ = AcceptAsync();
    }

    public int Port { get; }

    /// <summary>The first bytes each connection sent (empty when it sent nothing).</summary>
    public IReadOnlyCollection<string> Requests => requests;

    private async Task AcceptAsync()
    {
        try
        {
            while (!stop.IsCancellationRequested)
            {
                using var connection = await listener.AcceptTcpClientAsync(stop.Token);
                var buffer = new byte[1024];
                using var read = CancellationTokenSource.CreateLinkedTokenSource(stop.Token);
                read.CancelAfter(TimeSpan.FromSeconds(2));
                var count = 0;
                try
                {
                    count = await connection.GetStream().ReadAsync(buffer, read.Token);
                }
                catch (Exception e) when (e is OperationCanceledException or IOException)
                {
                    // A connection that sends nothing still counts.
                }

                requests.Enqueue(Encoding.ASCII.GetString(buffer, 0, count));
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
        {
            // Stopped.
        }
    }

    public void Dispose()
    {
        stop.Cancel();
        listener.Stop();
        stop.Dispose();
    }
}
