namespace AudioConverter.Bench;

/// <summary>
/// Many large uploads at once, each streamed from the same file on disk: the server's resident memory must
/// stay flat, whatever the file size, because it streams bodies to the blob store.
/// </summary>
internal static class MemoryScenario
{
    public static async Task<MemoryResult> RunAsync(BenchContext context, CancellationToken cancellationToken)
    {
        var clients = context.Options.MemoryClients;
        var bytes = context.Options.MemoryFileBytes;
        BenchContext.Say($"memory: {clients} clients each uploading a {bytes / (1024 * 1024)} MB WAV at once");
        var wav = await context.Fixtures.WavAsync(bytes, cancellationToken);
        var sessions = await Task.WhenAll(Enumerable.Range(0, clients).Select(_ => context.Client.NewUserAsync(null, cancellationToken)));
        await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
        var before = context.Monitor.Usage(context.Now - 1, context.Now);
        var recorder = new Recorder(context.Clock);
        const string label = "upload large WAV";
        var start = context.Now;
        await Task.WhenAll(sessions.Select(session => Task.Run(async () =>
        {
            await recorder.TimeAsync(label, async () =>
            {
                await using var file = new FileStream(wav, FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024, FileOptions.Asynchronous | FileOptions.SequentialScan);
                var (id, _) = await context.Client.UploadAsync(session, new StreamContent(file, 64 * 1024), "big.wav", "wav", cancellationToken);
                return id is not null;
            });

            // The worker would spend minutes copying these; delete each as soon as it is stored.
            await context.Client.DeleteAllAsync([session], TimeSpan.FromMinutes(5), cancellationToken);
        }, cancellationToken)));
        var stop = context.Now;
        var usage = context.Monitor.Usage(start, stop);
        Charts.Memory(context.Chart("memory-large-uploads.png"), $"Server memory while {clients} clients upload {bytes / (1024 * 1024)} MB each", context.Monitor.Between(start - 1, stop + 1));
        var notDeleted = sessions.Sum(s => s.TaskIds.Count);
        var result = new MemoryResult(clients, bytes, before?.PeakRssMb ?? 0, usage?.PeakRssMb ?? 0, usage?.HwmMb ?? 0, AggregateRow.From(label, recorder.Samples(label)), usage, notDeleted);
        BenchContext.Say($"  RSS before {result.RssBeforeMb:0} MB, peak during {result.PeakRssMb:0} MB; {result.Upload}");
        return result;
    }
}
