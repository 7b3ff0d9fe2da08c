namespace AudioConverter.Bench;

/// <summary>
/// Goal 5's "no growth over a 10-minute upload soak": clients upload the MP3 and delete each task straight after
/// (waiting out a conversion in progress), for --soak-minutes. The server's RSS is compared between the first and the
/// last minute; the chart shows all of it. Runs only when asked for, as it takes minutes.
/// </summary>
internal static class SoakScenario
{
    public static async Task<SoakResult> RunAsync(BenchContext context, CancellationToken cancellationToken)
    {
        var clients = context.Options.SoakClients;
        var seconds = context.Options.SoakMinutes * 60;
        BenchContext.Say($"soak: {clients} clients uploading and deleting for {context.Options.SoakMinutes} min");
        var sessions = await Task.WhenAll(Enumerable.Range(0, clients).Select(_ => context.Client.NewUserAsync(null, cancellationToken)));
        var recorder = new Recorder(context.Clock);
        const string label = "soak: upload mp3->wav, then delete";
        var start = context.Now;
        var end = start + seconds;
        await Task.WhenAll(sessions.Select(session => Task.Run(async () =>
        {
            while (context.Now < end)
            {
                await recorder.TimeAsync(label, async () =>
                    (await context.Client.UploadAsync(session, DistinctMp3Content.Unique(context.Mp3), "signal.mp3", "wav", cancellationToken)).TaskId is not null);
                await context.Client.DeleteAllAsync([session], TimeSpan.FromMinutes(2), cancellationToken);
            }
        }, cancellationToken)));
        var stop = context.Now;
        var notDeleted = await context.Client.DeleteAllAsync(sessions, TimeSpan.FromMinutes(3), cancellationToken);
        var window = Math.Min(60, seconds / 4);
        var first = context.Monitor.Usage(start, start + window);
        var last = context.Monitor.Usage(stop - window, stop);
        Charts.Memory(context.Chart("memory-soak.png"), $"Server memory during a {context.Options.SoakMinutes:0.#}-minute upload soak, {clients} clients", context.Monitor.Between(start, stop));
        var result = new SoakResult(clients, stop - start, AggregateRow.From(label, recorder.Samples(label)), first?.PeakRssMb ?? 0, last?.PeakRssMb ?? 0,
            context.Monitor.Usage(start, stop), notDeleted);
        BenchContext.Say($"  {result.Upload}\n  peak RSS first {window:0} s {result.FirstPeakRssMb:0} MB, last {window:0} s {result.LastPeakRssMb:0} MB");
        return result;
    }
}
