using System.Net;
using System.Net.Http.Headers;

namespace AudioConverter.Bench;

/// <summary>
/// Goal 1's ratio: server CPU per uploaded MB against a bare endpoint that only streams the same multipart body to a
/// file. Both run in processes of their own, so each one's CPU time is read from /proc before and after the same
/// number of uploads by the same number of clients. The server here is a second one, started with the API role only
/// (Role=api), so no conversion's CPU is counted; its upload rate is also the "API role alone" rate of goal 2. Goal 2's
/// other side follows with the same clients, uploads and body: the main server (API and worker in one process), its
/// worker converting what the uploads queue.
/// </summary>
internal static class UploadCostScenario
{
    /// <summary>Each side is measured this many times, in turn; the ratios quoted are the median round's.</summary>
    private const int Rounds = 3;

    public static async Task<UploadCostResult> RunAsync(BenchContext context, Func<CancellationToken, Task<ServerUnderTest>> startApiServer, CancellationToken cancellationToken)
    {
        var clients = context.Options.CostClients;
        var uploads = context.Options.CostUploads;
        BenchContext.Say($"upload cost: {uploads} uploads by {clients} clients to a bare endpoint, then to an API-only server");
        await using var bare = await BareServer.StartAsync(cancellationToken);
        await using var api = await startApiServer(cancellationToken);
        using var apiClient = new ServiceClient(api.BaseUrl);
        using var bareHttp = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = int.MaxValue });

        async Task<bool> BareUploadAsync()
        {
            using var form = Form(context.Mp3);
            using var response = await bareHttp.PostAsync(bare.Url, form, cancellationToken);
            return response.StatusCode == HttpStatusCode.Created;
        }

        // Warm-up of both (JIT, connections), outside the measured window.
        var sessions = await Task.WhenAll(Enumerable.Range(0, clients).Select(_ => apiClient.NewUserAsync(null, cancellationToken)));
        for (var i = 0; i < 20; i++)
        {
            await BareUploadAsync();
            await apiClient.UploadAsync(sessions[0], new ReadOnlyMemoryContent(context.Mp3), "warmup.mp3", "wav", cancellationToken);
        }

        var bodyBytes = BodyLength(context.Mp3);
        var sharedSessions = await Task.WhenAll(Enumerable.Range(0, clients).Select(_ => context.Client.NewUserAsync(null, cancellationToken)));
        var rounds = new List<UploadCostRound>();
        var notDeleted = 0;
        for (var round = 0; round < Rounds; round++)
        {
            // The three sides in turn, so a change in the machine's load between them weighs on each round alike.
            bare.Clear();
            var bareRun = await MeasureAsync(context, "bare: POST multipart body to a file", bare.Pid, clients, uploads, _ => BareUploadAsync());
            bare.Clear();
            var apiRun = await MeasureAsync(context, "server (API role): POST /api/tasks", api.Pid!.Value, clients, uploads, async client =>
                (await apiClient.UploadAsync(sessions[client], new ReadOnlyMemoryContent(context.Mp3), "signal.mp3", "wav", cancellationToken)).TaskId is not null);
            notDeleted += await apiClient.DeleteAllAsync(sessions, TimeSpan.FromMinutes(3), cancellationToken);
            var (sharedRun, converted, usage, sharedNotDeleted) = await MeasureWhileConvertingAsync(context, sharedSessions, uploads, cancellationToken);
            notDeleted += sharedNotDeleted;
            var sharedRound = new UploadCostRound(bareRun.Row, bareRun.CpuMs, apiRun.Row, apiRun.CpuMs, sharedRun.Row, converted, usage);
            rounds.Add(sharedRound);
            BenchContext.Say($"  round {round + 1}: {sharedRound}");
        }

        var megabytes = bodyBytes / 1e6;
        var cost = Median(rounds, r => r.ServerCpuMs / Math.Max(1, r.BareCpuMs));
        var shared = Median(rounds, r => r.Shared.PerSecond / Math.Max(1e-9, r.Server.PerSecond));
        var result = new UploadCostResult(
            clients, uploads, bodyBytes,
            cost.Bare, cost.BareCpuMs / uploads, cost.BareCpuMs / uploads / megabytes,
            cost.Server, cost.ServerCpuMs / uploads, cost.ServerCpuMs / uploads / megabytes,
            cost.ServerCpuMs / Math.Max(1, cost.BareCpuMs),
            shared.Shared, shared.Converted, shared.Shared.PerSecond / Math.Max(1e-9, shared.Server.PerSecond), rounds, notDeleted);
        BenchContext.Say($"  median rounds: CPU per upload bare {result.BareCpuMsPerUpload:0.00} ms, server {result.ServerCpuMsPerUpload:0.00} ms, ratio {result.ServerToBare:0.00}; uploads with the worker converting / API role alone = {result.SharedToApiOnly:0.00}");
        return result;
    }

    /// <summary>
    /// The same uploads to the main server while its worker converts: a head start of queued files has the worker busy
    /// from the first measured upload on, and the conversions finished during the window show it was.
    /// </summary>
    private static async Task<((AggregateRow Row, double CpuMs) Run, int Converted, ResourceUsage? Usage, int NotDeleted)> MeasureWhileConvertingAsync(
        BenchContext context, UserSession[] sessions, int uploads, CancellationToken cancellationToken)
    {
        var client = context.Client;
        for (var i = 0; i < 2 * context.Options.WorkerConcurrency; i++)
        {
            await client.UploadAsync(sessions[0], new ReadOnlyMemoryContent(context.Mp3), "head-start.mp3", "wav", cancellationToken);
        }

        var from = context.Now;
        var run = await MeasureAsync(context, "server (API + worker converting): POST /api/tasks", null, sessions.Length, uploads, async c =>
            (await client.UploadAsync(sessions[c], new ReadOnlyMemoryContent(context.Mp3), "signal.mp3", "wav", cancellationToken)).TaskId is not null);
        var usage = context.Monitor.Usage(from, context.Now);
        var converted = 0;
        foreach (var session in sessions)
        {
            var (tasks, _) = await client.ListAsync(session, 100, cancellationToken);
            converted += tasks?.Count(t => t.Status is "processed" or "failed") ?? 0;
        }

        return (run, converted, usage, await client.DeleteAllAsync(sessions, TimeSpan.FromMinutes(3), cancellationToken));
    }

    /// <summary>The round whose ratio is the median of the rounds' (the middle one of three).</summary>
    private static UploadCostRound Median(List<UploadCostRound> rounds, Func<UploadCostRound, double> ratio) =>
        rounds.OrderBy(ratio).ElementAt(rounds.Count / 2);

    /// <summary>Times the uploads; the process's CPU time over them when a pid is given (0 otherwise).</summary>
    private static async Task<(AggregateRow Row, double CpuMs)> MeasureAsync(BenchContext context, string label, int? pid, int clients, int uploads, Func<int, Task<bool>> upload)
    {
        var recorder = new Recorder(context.Clock);
        var remaining = uploads;
        var cpuBefore = pid is { } before ? ProcessCpu.Milliseconds(before) : 0;
        await Task.WhenAll(Enumerable.Range(0, clients).Select(client => Task.Run(async () =>
        {
            while (Interlocked.Decrement(ref remaining) >= 0)
            {
                await recorder.TimeAsync(label, () => upload(client));
            }
        })));
        var cpu = pid is { } after ? ProcessCpu.Milliseconds(after) - cpuBefore : 0;
        return (AggregateRow.From(label, recorder.Samples(label)), cpu);
    }

    /// <summary>The same multipart body the bench's uploads send to the server.</summary>
    private static MultipartFormDataContent Form(ReadOnlyMemory<byte> mp3)
    {
        var form = new MultipartFormDataContent();
        var file = new ReadOnlyMemoryContent(mp3);
        file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        form.Add(file, "fileName", "signal.mp3");
        form.Add(new StringContent("wav"), "newFormat");
        return form;
    }

    private static long BodyLength(ReadOnlyMemory<byte> mp3)
    {
        using var form = Form(mp3);
        return form.Headers.ContentLength ?? form.ReadAsByteArrayAsync().GetAwaiter().GetResult().Length;
    }
}
