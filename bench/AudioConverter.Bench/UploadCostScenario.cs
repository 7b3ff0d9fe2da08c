using System.Net;
using System.Net.Http.Headers;

namespace AudioConverter.Bench;

/// <summary>
/// Goal 1's ratio: server CPU per uploaded MB against a bare endpoint that only streams the same multipart body to a
/// file. Both run in processes of their own, so each one's CPU time is read from /proc before and after the same
/// number of uploads by the same number of clients. The server here is a second one, started with the API role only
/// (Role=api), so no conversion's CPU is counted; its upload rate is also the "API role alone" rate of goal 2.
/// </summary>
internal static class UploadCostScenario
{
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

        bare.Clear();
        var bodyBytes = BodyLength(context.Mp3);
        var bareRun = await MeasureAsync(context, "bare: POST multipart body to a file", bare.Pid, clients, uploads, _ => BareUploadAsync());
        bare.Clear();
        var apiRun = await MeasureAsync(context, "server (API role): POST /api/tasks", api.Pid!.Value, clients, uploads, async client =>
            (await apiClient.UploadAsync(sessions[client], new ReadOnlyMemoryContent(context.Mp3), "signal.mp3", "wav", cancellationToken)).TaskId is not null);
        var notDeleted = await apiClient.DeleteAllAsync(sessions, TimeSpan.FromMinutes(3), cancellationToken);

        var megabytes = bodyBytes / 1e6;
        var result = new UploadCostResult(
            clients, uploads, bodyBytes,
            bareRun.Row, bareRun.CpuMs / uploads, bareRun.CpuMs / uploads / megabytes,
            apiRun.Row, apiRun.CpuMs / uploads, apiRun.CpuMs / uploads / megabytes,
            apiRun.CpuMs / Math.Max(1, bareRun.CpuMs), notDeleted);
        BenchContext.Say($"  {result.Bare}\n  {result.Server}");
        BenchContext.Say($"  CPU per upload: bare {result.BareCpuMsPerUpload:0.00} ms, server {result.ServerCpuMsPerUpload:0.00} ms; ratio {result.ServerToBare:0.00}");
        return result;
    }

    private static async Task<(AggregateRow Row, double CpuMs)> MeasureAsync(BenchContext context, string label, int pid, int clients, int uploads, Func<int, Task<bool>> upload)
    {
        var recorder = new Recorder(context.Clock);
        var remaining = uploads;
        var cpuBefore = ProcessCpu.Milliseconds(pid);
        await Task.WhenAll(Enumerable.Range(0, clients).Select(client => Task.Run(async () =>
        {
            while (Interlocked.Decrement(ref remaining) >= 0)
            {
                await recorder.TimeAsync(label, () => upload(client));
            }
        })));
        var cpu = ProcessCpu.Milliseconds(pid) - cpuBefore;
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
