namespace AudioConverter.Bench;

/// <summary>
/// Scenario 1, the web layer: N users sign up, log in, then upload the MP3 and ask for WAV in a closed loop for a
/// fixed time while the worker converts in the same process; a light level at one upload a second; and listing.
/// </summary>
internal static class WebScenario
{
    public static async Task<List<WebLevelResult>> RunLevelsAsync(BenchContext context, CancellationToken cancellationToken)
    {
        var results = new List<WebLevelResult>();
        var latency = new List<(string, IReadOnlyList<Sample>)>();
        foreach (var users in context.Options.UserLevels)
        {
            BenchContext.Say($"web: {users} users uploading for {context.Options.LevelSeconds} s");
            var recorder = new Recorder(context.Clock);
            var sessions = await Task.WhenAll(Enumerable.Range(0, users).Select(_ => context.Client.NewUserAsync(recorder, cancellationToken)));
            var start = context.Now;
            var end = start + context.Options.LevelSeconds;
            var label = $"upload mp3->wav, {users} users";
            await Task.WhenAll(sessions.Select(session => Task.Run(async () =>
            {
                while (context.Now < end)
                {
                    await recorder.TimeAsync(label, async () =>
                        (await context.Client.UploadAsync(session, DistinctMp3Content.Unique(context.Mp3), "signal.mp3", "wav", cancellationToken)).TaskId is not null);
                }
            }, cancellationToken)));
            var stop = context.Now;
            var resources = context.Monitor.Usage(start, stop);

            // What the worker got through while the uploads ran (the rest is deleted unconverted).
            var converted = 0;
            var queued = 0;
            foreach (var session in sessions)
            {
                var (tasks, _) = await context.Client.ListAsync(session, 1000, cancellationToken);
                converted += tasks?.Count(t => t.Status is "processed" or "failed") ?? 0;
                queued += tasks?.Count(t => t.Status is "uploaded" or "processing") ?? 0;
            }

            var notDeleted = await context.Client.DeleteAllAsync(sessions, TimeSpan.FromMinutes(3), cancellationToken);
            var samples = recorder.Samples(label);
            latency.Add(($"{users} users", samples));
            results.Add(new WebLevelResult(
                users, stop - start, AggregateRow.From(label, samples), AggregateRow.From("signup", recorder.Samples("signup")),
                AggregateRow.From("login", recorder.Samples("login")), resources, converted, queued, notDeleted));
            BenchContext.Say($"  {results[^1].Upload}");
        }

        Charts.LatencyOverTime(context.Chart("web-upload-latency.png"), "Upload latency (2.9 MB MP3 -> WAV), closed loop", latency);
        Charts.ThroughputOverTime(context.Chart("web-upload-throughput.png"), "Uploads completed per second, closed loop", latency);
        return results;
    }

    /// <summary>One upload a second from one user, open loop, so each finds the workers idle.</summary>
    public static async Task<LightResult> RunLightAsync(BenchContext context, CancellationToken cancellationToken)
    {
        var count = context.Options.LightUploads;
        BenchContext.Say($"light: {count} uploads at 1 per second");
        var recorder = new Recorder(context.Clock);
        var session = await context.Client.NewUserAsync(null, cancellationToken);
        var start = context.Now;
        const string label = "upload mp3->wav, 1 per second";
        var uploads = new List<Task>();
        for (var i = 0; i < count; i++)
        {
            var due = start + i;
            if (due > context.Now)
            {
                await Task.Delay(TimeSpan.FromSeconds(due - context.Now), cancellationToken);
            }

            uploads.Add(recorder.TimeAsync(label, async () =>
                (await context.Client.UploadAsync(session, DistinctMp3Content.Unique(context.Mp3), "signal.mp3", "wav", cancellationToken)).TaskId is not null));
        }

        await Task.WhenAll(uploads);
        var tasks = await context.Client.WaitForAllAsync([session], TimeSpan.FromSeconds(120 + count * 30), cancellationToken);
        var stop = context.Now;
        var notDeleted = await context.Client.DeleteAllAsync([session], TimeSpan.FromMinutes(1), cancellationToken);
        var samples = recorder.Samples(label);
        var result = new LightResult(
            1,
            AggregateRow.From(label, samples),
            AggregateRow.From("queue: created -> conversion start", Spans(tasks, t => t.CreatedAt, t => t.StartedAt)),
            AggregateRow.From("conversion: start -> processed", Spans(tasks, t => t.StartedAt, t => t.ProcessedAt)),
            context.Monitor.Usage(start, stop),
            notDeleted);
        BenchContext.Say($"  {result.Upload}");
        BenchContext.Say($"  {result.QueueDelay}");
        return result;
    }

    /// <summary>GET /api/tasks against an empty endpoint in the bench and the server's /health/live, same clients, same duration.</summary>
    public static async Task<ListingResult> RunListingAsync(BenchContext context, CancellationToken cancellationToken)
    {
        var clients = context.Options.ListingClients;
        var userCount = Math.Min(16, clients);
        var tasksPerUser = context.Options.Smoke ? 2 : 10;
        BenchContext.Say($"listing: {userCount} users with {tasksPerUser} processed tasks each, {clients} clients");
        var tiny = await File.ReadAllBytesAsync(await context.Fixtures.Mp3Async(2, cancellationToken), cancellationToken);
        var sessions = await Task.WhenAll(Enumerable.Range(0, userCount).Select(_ => context.Client.NewUserAsync(null, cancellationToken)));
        foreach (var session in sessions)
        {
            for (var i = 0; i < tasksPerUser; i++)
            {
                var (id, status) = await context.Client.UploadAsync(session, new ReadOnlyMemoryContent(tiny), "tiny.mp3", "wav", cancellationToken);
                if (id is null)
                {
                    throw new InvalidOperationException($"Uploading a listing fixture answered {(int)status}.");
                }
            }
        }

        await context.Client.WaitForAllAsync(sessions, TimeSpan.FromMinutes(5), cancellationToken);
        await using var empty = await EmptyEndpoint.StartAsync(cancellationToken);

        async Task<(IReadOnlyList<Sample> Samples, double Start, double Stop)> LoopAsync(string label, Func<int, Task<bool>> request)
        {
            var recorder = new Recorder(context.Clock);
            var start = context.Now;
            var end = start + context.Options.LevelSeconds;
            await Task.WhenAll(Enumerable.Range(0, clients).Select(client => Task.Run(async () =>
            {
                while (context.Now < end)
                {
                    await recorder.TimeAsync(label, () => request(client));
                }
            }, cancellationToken)));
            return (recorder.Samples(label), start, context.Now);
        }

        var emptyRun = await LoopAsync("GET /empty (bench's Kestrel)", _ => context.Client.GetOkAsync(empty.Url, cancellationToken));
        var healthRun = await LoopAsync("GET /health/live (server)", _ => context.Client.GetOkAsync(context.Client.BaseUrl + "/health/live", cancellationToken));
        // The steps between an empty answer and a listing: the bearer token (a 400 for a bad 'max' comes after
        // authentication and before the database), then one database query (a 404 for a task that does not exist).
        var authRun = await LoopAsync("GET /api/tasks?max=0 (token, 400)", client =>
            context.Client.GetAsAsync(sessions[client % sessions.Length], "api/tasks?max=0", System.Net.HttpStatusCode.BadRequest, cancellationToken));
        var queryRun = await LoopAsync("GET /api/tasks/0 (token + query, 404)", client =>
            context.Client.GetAsAsync(sessions[client % sessions.Length], "api/tasks/0", System.Net.HttpStatusCode.NotFound, cancellationToken));
        // Each user's answer is parsed once, here, and must hold its tasks; in the level the clients read the bytes
        // as the empty endpoint's do and check status and length (nothing changes the lists meanwhile), so the
        // clients' JSON parsing, on the same two cores, does not weigh on the listing's rate alone.
        var expectedLength = new int[sessions.Length];
        for (var i = 0; i < sessions.Length; i++)
        {
            var (tasks, status) = await context.Client.ListAsync(sessions[i], 100, cancellationToken);
            if (tasks?.Count != tasksPerUser)
            {
                throw new InvalidOperationException($"A listing fixture user's list answered {(int)status} with {tasks?.Count ?? 0} of {tasksPerUser} tasks.");
            }

            expectedLength[i] = (await context.Client.GetBodyLengthAsync(sessions[i], "api/tasks?max=100", cancellationToken)).Length;
        }

        var listingRun = await LoopAsync($"GET /api/tasks ({tasksPerUser} tasks)", async client =>
        {
            var user = client % sessions.Length;
            var (status, length) = await context.Client.GetBodyLengthAsync(sessions[user], "api/tasks?max=100", cancellationToken);
            return status == System.Net.HttpStatusCode.OK && length == expectedLength[user];
        });
        var notDeleted = await context.Client.DeleteAllAsync(sessions, TimeSpan.FromMinutes(1), cancellationToken);

        var listing = AggregateRow.From(listingRun.Samples.FirstOrDefault().Label ?? "listing", listingRun.Samples);
        var emptyRow = AggregateRow.From(emptyRun.Samples.FirstOrDefault().Label ?? "empty", emptyRun.Samples);
        var health = AggregateRow.From(healthRun.Samples.FirstOrDefault().Label ?? "health", healthRun.Samples);
        AggregateRow[] steps = [AggregateRow.From(authRun.Samples.FirstOrDefault().Label ?? "auth", authRun.Samples), AggregateRow.From(queryRun.Samples.FirstOrDefault().Label ?? "query", queryRun.Samples)];
        Charts.ThroughputOverTime(context.Chart("listing-throughput.png"), $"Requests per second, {clients} clients",
            [("GET /api/tasks", listingRun.Samples), ("GET /health/live", healthRun.Samples), ("GET /empty (bench)", emptyRun.Samples)]);
        var result = new ListingResult(
            clients, userCount, tasksPerUser, listing, emptyRow, health, steps, context.Monitor.Usage(listingRun.Start, listingRun.Stop),
            listing.PerSecond / Math.Max(0.001, emptyRow.PerSecond), listing.PerSecond / Math.Max(0.001, health.PerSecond), notDeleted);
        BenchContext.Say($"  {emptyRow}\n  {health}\n  {steps[0]}\n  {steps[1]}\n  {listing}");
        return result;
    }

    public static List<Sample> Spans(IEnumerable<TaskView> tasks, Func<TaskView, DateTime?> from, Func<TaskView, DateTime?> to) =>
        [.. tasks.Where(t => from(t) is not null && to(t) is not null)
            .Select(t => new Sample("span", 0, Math.Max(0, (to(t)!.Value - from(t)!.Value).TotalMilliseconds), t.Status == "processed"))];
}
