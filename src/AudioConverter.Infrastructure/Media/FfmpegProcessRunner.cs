using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace AudioConverter.Infrastructure.Media;

/// <summary>How a tool run ended. <see cref="ExitCode"/> is -1 when the run was stopped (time limit or a refusal).</summary>
public sealed record ToolRun(int ExitCode, string Stderr, bool TimedOut, bool Refused);

/// <summary>
/// Runs ffmpeg and ffprobe as child processes: arguments as a list (no shell), both outputs read line by line, a time
/// limit after which the whole process tree is killed, and the address space bounded with prlimit so a runaway
/// allocation fails inside the tool instead of taking the machine's memory.
/// </summary>
public sealed class FfmpegProcessRunner(MediaOptions settings)
{
    private const int MaxStderrChars = 64 * 1024;

    /// <summary>
    /// Runs <paramref name="tool"/>. A stderr line for which <paramref name="refuse"/> returns true stops it at once;
    /// so does <paramref name="timeout"/>. Cancellation kills the tree and throws.
    /// </summary>
    public async Task<ToolRun> RunAsync(string tool, IReadOnlyList<string> arguments, TimeSpan timeout,
        Func<string, bool>? refuse, Action<string>? readStdout, CancellationToken cancellationToken)
    {
        var start = StartInfo(tool, arguments, out var wrapped);
        using var process = new Process { StartInfo = start };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new MediaException($"The converter could not be started ('{start.FileName}' is not installed or not on PATH).", isInputFault: false, e);
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout > TimeSpan.Zero ? timeout : TimeSpan.FromMilliseconds(1));
        using var refused = new CancellationTokenSource();
        var stderr = new StringBuilder();
        var stderrTask = Task.Run(() => ReadStderrAsync(process, stderr, refuse, refused), CancellationToken.None);
        var stdoutTask = Task.Run(() => ReadStdoutAsync(process, readStdout), CancellationToken.None);

        using var either = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, refused.Token);
        var stopped = false;
        try
        {
            await process.WaitForExitAsync(either.Token);
        }
        catch (OperationCanceledException)
        {
            stopped = true;
            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // Already exited.
            }

            await process.WaitForExitAsync(CancellationToken.None);
            await Task.WhenAll(stderrTask, stdoutTask);
            cancellationToken.ThrowIfCancellationRequested();
        }

        await Task.WhenAll(stderrTask, stdoutTask);
        var timedOut = stopped && !refused.IsCancellationRequested;
        var text = stderr.ToString();
        // prlimit, chrt or nice started, but could not run the tool itself.
        if (!stopped && wrapped && process.ExitCode is 126 or 127)
        {
            throw new MediaException($"The converter could not be started ('{tool}' is not installed or not on PATH).", isInputFault: false);
        }

        return new ToolRun(stopped ? -1 : process.ExitCode, text, timedOut, refused.IsCancellationRequested);
    }

    /// <summary>
    /// The tool's command line, wrapped, outermost first: prlimit bounds the memory, chrt (the idle policy) or nice
    /// lowers the CPU priority below requests'. <paramref name="wrapped"/> says whether a wrapper runs the tool.
    /// </summary>
    private ProcessStartInfo StartInfo(string tool, IReadOnlyList<string> arguments, out bool wrapped)
    {
        var command = new List<string>();
        if (settings.MemoryLimitMegabytes > 0)
        {
            command.AddRange([settings.PrlimitPath, "--as=" + (settings.MemoryLimitMegabytes * 1024L * 1024L).ToString(CultureInfo.InvariantCulture), "--"]);
        }

        if (settings.IdlePriority == true)
        {
            command.AddRange([settings.ChrtPath, "--idle", "0"]);
        }
        else if (settings.Niceness > 0)
        {
            command.AddRange(["nice", "-n", settings.Niceness.ToString(CultureInfo.InvariantCulture)]);
        }

        command.Add(tool);
        var start = new ProcessStartInfo(command[0])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            RedirectStandardInput = false,
            UseShellExecute = false,
            CreateNoWindow = true,
        };
        foreach (var argument in command.Skip(1).Concat(arguments))
        {
            start.ArgumentList.Add(argument);
        }

        wrapped = command.Count > 1;
        return start;
    }

    /// <summary>Keeps the first <see cref="MaxStderrChars"/> of stderr, and cancels <paramref name="refused"/> at the first line refused.</summary>
    private static async Task ReadStderrAsync(Process process, StringBuilder stderr, Func<string, bool>? refuse, CancellationTokenSource refused)
    {
        while (await process.StandardError.ReadLineAsync(CancellationToken.None) is { } line)
        {
            if (stderr.Length < MaxStderrChars)
            {
                stderr.AppendLine(line.Length > 1000 ? line[..1000] : line);
            }

            if (!refused.IsCancellationRequested && refuse?.Invoke(line) == true)
            {
                await refused.CancelAsync();
            }
        }
    }

    private static async Task ReadStdoutAsync(Process process, Action<string>? readStdout)
    {
        while (await process.StandardOutput.ReadLineAsync(CancellationToken.None) is { } line)
        {
            readStdout?.Invoke(line);
        }
    }
}