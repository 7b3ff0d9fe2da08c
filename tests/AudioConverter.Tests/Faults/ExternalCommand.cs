using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace AudioConverter.Tests.Faults;

/// <summary>
/// The one runner for command-line tools (ffmpeg, ffprobe, pg_ctl, rabbitmqctl, chromium, s3rver): each runs with
/// its output captured, ends within a deadline (the whole process tree is killed when it does not), and a failure
/// says what ran and what it printed. The server itself runs under <see cref="Fixtures.ServerProcess"/>.
/// </summary>
public static class ExternalCommand
{
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(60);

    /// <summary>What a finished command printed, and how it ended.</summary>
    public sealed record Result(int ExitCode, string StandardOutput, string StandardError);

    /// <summary>Runs to the end; fails when the tool exits with anything but 0. Returns standard output then standard error.</summary>
    public static async Task<string> RunAsync(string file, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null, TimeSpan? timeout = null)
    {
        var start = StartInfo(file, arguments, environment);
        var result = await RunToEndAsync(start, timeout ?? DefaultTimeout);
        var output = result.StandardOutput + result.StandardError;
        return result.ExitCode == 0 ? output : throw new InvalidOperationException($"{Describe(start)} exited with {result.ExitCode}:\n{output}");
    }

    /// <summary>Runs to the end whatever its exit code (for tools whose exit code says nothing, such as a headless browser).</summary>
    public static Task<Result> RunToEndAsync(string file, IEnumerable<string> arguments, TimeSpan? timeout = null) =>
        RunToEndAsync(StartInfo(file, arguments, null), timeout ?? DefaultTimeout);

    /// <summary>The same as <see cref="RunAsync"/> for synchronous callers (sample generation); returns standard output only.</summary>
    public static string Run(string file, IEnumerable<string> arguments, TimeSpan? timeout = null)
    {
        var start = StartInfo(file, arguments, null);
        var limit = timeout ?? DefaultTimeout;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(limit))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{Describe(start)} did not finish within {limit.TotalSeconds} s.");
        }

        process.WaitForExit();
        return process.ExitCode == 0 ? stdout.Result : throw new InvalidOperationException($"{Describe(start)} failed with {process.ExitCode}: {stderr.Result}");
    }

    /// <summary>
    /// Starts a long-running tool (a private backend) and drains its output so it never blocks on a full pipe.
    /// The caller owns the process: it stops it with Kill and disposes it.
    /// </summary>
    public static Process StartBackground(string file, IEnumerable<string> arguments)
    {
        var process = Process.Start(StartInfo(file, arguments, null))!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>Whether something accepts TCP connections on the loopback port.</summary>
    public static bool Listening(int port)
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static async Task<Result> RunToEndAsync(ProcessStartInfo start, TimeSpan timeout)
    {
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{Describe(start)} did not finish within {timeout.TotalSeconds} s.");
        }

        return new Result(process.ExitCode, await stdout, await stderr);
    }

    private static ProcessStartInfo StartInfo(string file, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        return start;
    }

    private static string Describe(ProcessStartInfo start) => $"{start.FileName} {string.Join(' ', start.ArgumentList)}";
}
