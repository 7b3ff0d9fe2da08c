using System.Diagnostics;

namespace AudioConverter.Bench;

/// <summary>What every scenario shares: options, the server's client, the clock, the monitor, the inputs and the report folder.</summary>
internal sealed class BenchContext(BenchOptions options, ServiceClient client, Stopwatch clock, ProcessMonitor monitor, AudioFixtures fixtures, string mp3Path)
{
    public BenchOptions Options { get; } = options;

    public ServiceClient Client { get; } = client;

    public Stopwatch Clock { get; } = clock;

    public ProcessMonitor Monitor { get; } = monitor;

    public AudioFixtures Fixtures { get; } = fixtures;

    public string Mp3Path { get; } = mp3Path;

    public ReadOnlyMemory<byte> Mp3 { get; } = File.ReadAllBytes(mp3Path);

    public double Now => Clock.Elapsed.TotalSeconds;

    public string Chart(string name) => Path.Combine(Options.OutFolder, name);

    public static void Say(string message) => Console.WriteLine($"[{DateTime.Now:HH:mm:ss}] {message}");
}
