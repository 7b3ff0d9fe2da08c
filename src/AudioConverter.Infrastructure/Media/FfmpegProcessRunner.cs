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
        var start = new ProcessStartInfo(settings.MemoryLimitMegabytes > 0 ? settings.PrlimitPath : tool)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            RedirectStandardInput = false,
            UseShellExecute = false,
            CreateNoWindow = true,
        };
        if (settings.MemoryLimitMegabytes > 0)
        {
            start.ArgumentList.Add("--as=" + (settings.MemoryLimitMegabytes * 1024L * 1024L).ToString(CultureInfo.InvariantCulture));
            start.ArgumentList.Add("--");
            start.ArgumentList.Add(tool);
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

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
        var stderrTask = Task.Run(async () =>
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
        }, CancellationToken.None);
        var stdoutTask = Task.Run(async () =>
        {
            while (await process.StandardOutput.ReadLineAsync(CancellationToken.None) is { } line)
            {
                readStdout?.Invoke(line);
            }
        }, CancellationToken.None);

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
        if (!stopped && settings.MemoryLimitMegabytes > 0 && process.ExitCode is 126 or 127 && text.Contains("failed to execute", StringComparison.Ordinal))
        {
            throw new MediaException($"The converter could not be started ('{tool}' is not installed or not on PATH).", isInputFault: false);
        }

        return new ToolRun(stopped ? -1 : process.ExitCode, text, timedOut, refused.IsCancellationRequested);
    }
}
