using AudioConverter.Core.Conversion;
using AudioConverter.Core.Tasks;
using AudioConverter.Infrastructure.Data;

namespace AudioConverter.Server.Conversion;

/// <summary>
/// The worker's one call into the conversion: resolves the task's stored options for its format, runs the converter
/// and writes its progress to the row (with a task.progress event) as the converter reports it, at most about once a
/// second, while this claim's fence holds.
/// </summary>
public static class TaskConversion
{
    public static async Task<ConversionResult> RunAsync(IMediaConverter media, IServiceScopeFactory scopes,
        ConversionTask task, AudioFormat format, string inputPath, string outputPath, CancellationToken cancellationToken)
    {
        var resolved = ConversionOptionsParser.Parse([], format, ConversionOptions.FromJson(task.Options), task.NewFormat);
        if (!resolved.IsValid)
        {
            throw new MediaException($"The task's options do not fit {format.Name}: {string.Join(" ", resolved.Errors.Values.SelectMany(v => v))} Convert it again with other options.", isInputFault: true);
        }

        var writer = new ProgressWriter(scopes, task.Id, task.Fence);
        try
        {
            return await media.ConvertAsync(new ConversionRequest(inputPath, outputPath, format, resolved.Options!), writer, cancellationToken);
        }
        finally
        {
            await writer.DrainAsync();
        }
    }

    /// <summary>Writes each reported percentage in order, one at a time; a failed write is dropped (progress is advisory).</summary>
    private sealed class ProgressWriter(IServiceScopeFactory scopes, long taskId, long fence) : IProgress<int>
    {
        private readonly Lock gate = new();
        private Task chain = Task.CompletedTask;

        public void Report(int value)
        {
            lock (gate)
            {
                chain = chain.ContinueWith(_ => WriteAsync(value), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default).Unwrap();
            }
        }

        public Task DrainAsync()
        {
            lock (gate)
            {
                return chain;
            }
        }

        private async Task WriteAsync(int percent)
        {
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                await scope.ServiceProvider.GetRequiredService<TaskTransitions>().ProgressAsync(taskId, fence, percent, CancellationToken.None);
                Telemetry.AudioConverterMetrics.ProgressWriteDuration.Record(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // Progress is advisory: a lost write is replaced by the next one, or by the final state.
            }
        }
    }
}
