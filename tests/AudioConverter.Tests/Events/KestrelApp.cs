using AudioConverter.Tests.Fixtures;

namespace AudioConverter.Tests.Events;

/// <summary>The in-memory host on a real loopback socket: streams are read as a client reads them, flush by flush.</summary>
public static class KestrelApp
{
    public static AppFactory Start(IDictionary<string, string?>? settings = null, string? dataDirectory = null)
    {
        var factory = new AppFactory(settings, dataDirectory);
        factory.UseKestrel(0);
        factory.StartServer();
        return factory;
    }
}
