using System.Net;
using System.Net.Sockets;
using AudioConverter.Tests.Fixtures;

namespace AudioConverter.Tests.Unit;

public sealed class FreePortTests
{
    [Fact]
    public void APortForARestartedListenerIsFreeAndBelowTheKernelsEphemeralRange()
    {
        var low = int.Parse(File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split('\t', ' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        var ports = Enumerable.Range(0, 50).Select(_ => ServerProcess.FreePort()).ToList();

        Assert.All(ports, port => Assert.InRange(port, 1024, low - 1));
        using var listener = new TcpListener(IPAddress.Loopback, ports[^1]);
        listener.Start();
        Assert.True(ports.Distinct().Count() > 40, $"the ports should be drawn at random: {string.Join(", ", ports)}");
    }
}
