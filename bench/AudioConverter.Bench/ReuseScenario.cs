namespace AudioConverter.Bench;

/// <summary>
/// Work not done twice (issue 12, goal 6): the cost of a cache hit beside a conversion's. One user uploads, one at a
/// time and each after the previous one is processed: first <c>--reuse-files</c> distinct files (the MP3 with a tag of
/// its own each, converted: misses), then the first of them again as many times (same bytes, target and options: each
/// a copy of the first one's output, no ffmpeg: hits). The misses arrive at an idle worker, so their queue delay is
/// goal 3's idle queue delay.
/// </summary>
internal static class ReuseScenario
{
    public static async Task<ReuseResult> RunAsync(BenchContext context, CancellationToken cancellationToken)
    {
        var files = context.Options.ReuseFiles;
        BenchContext.Say($"reuse: {files} distinct uploads one at a time, then the first one's bytes {files} times");
        var session = await context.Client.NewUserAsync(null, cancellationToken);
        var timeout = TimeSpan.FromMinutes(5);
        var source = Guid.NewGuid().ToString("N");

        async Task<TaskView> OneAsync(string title)
        {
            var (id, status) = await context.Client.UploadAsync(session, new DistinctMp3Content(context.Mp3, title), "signal.mp3", "wav", cancellationToken);
            return id is { } taskId
                ? await context.Client.WaitForTaskAsync(session, taskId, timeout, cancellationToken)
                : throw new InvalidOperationException($"The upload answered {(int)status}.");
        }

        var misses = new List<TaskView>();
        for (var i = 0; i < files; i++)
        {
            misses.Add(await OneAsync(i == 0 ? source : Guid.NewGuid().ToString("N")));
        }

        var hits = new List<TaskView>();
        for (var i = 0; i < files; i++)
        {
            hits.Add(await OneAsync(source));
        }

        var notDeleted = await context.Client.DeleteAllAsync([session], TimeSpan.FromMinutes(2), cancellationToken);
        var missConversion = AggregateRow.From("miss: conversion start -> processed", WebScenario.Spans(misses, t => t.StartedAt, t => t.ProcessedAt));
        var hitConversion = AggregateRow.From("hit: conversion start -> processed", WebScenario.Spans(hits, t => t.StartedAt, t => t.ProcessedAt));
        var result = new ReuseResult(
            files,
            AggregateRow.From("miss: created -> conversion start", WebScenario.Spans(misses, t => t.CreatedAt, t => t.StartedAt)),
            missConversion,
            AggregateRow.From("miss: created -> processed", WebScenario.Spans(misses, t => t.CreatedAt, t => t.ProcessedAt)),
            AggregateRow.From("hit: created -> conversion start", WebScenario.Spans(hits, t => t.CreatedAt, t => t.StartedAt)),
            hitConversion,
            AggregateRow.From("hit: created -> processed", WebScenario.Spans(hits, t => t.CreatedAt, t => t.ProcessedAt)),
            hits.Count(t => t.Notes?.Any(n => n.StartsWith("The output was reused from task ", StringComparison.Ordinal)) == true),
            missConversion.MedianMs > 0 ? hitConversion.MedianMs / missConversion.MedianMs : 0,
            notDeleted);
        BenchContext.Say($"  {result.MissConversion}");
        BenchContext.Say($"  {result.HitConversion}");
        BenchContext.Say($"  hits reused: {result.HitsReused} of {files}; hit / miss (median) = {result.HitToMiss:0.000}");
        return result;
    }
}
