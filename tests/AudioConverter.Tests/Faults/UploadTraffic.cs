using System.Net;
using System.Net.Http.Json;
using AudioConverter.Server.Tasks;
using AudioConverter.Tests.Fixtures;

namespace AudioConverter.Tests.Faults;

/// <summary>
/// A user who keeps uploading small files and listing their tasks, one request at a time, while a test takes a
/// backend away and brings it back. Every answer is kept so the test can say what the service did in the gap.
/// </summary>
public sealed class UploadTraffic : IAsyncDisposable
{
    private readonly HttpClient client;
    private readonly CancellationTokenSource stop = new();
    private readonly List<Answer> answers = [];
    private readonly Task loop;
    private readonly byte[] audio = AudioSamples.Get("mp3", 1);

    private UploadTraffic(HttpClient client)
    {
        this.client = client;
        loop = Task.Run(RunAsync);
    }

    /// <summary>One request and what came back; a request that got no answer at all has status 0.</summary>
    public sealed record Answer(string Request, HttpStatusCode Status, string? MediaType, string Body, long? TaskId, DateTime At);

    public static UploadTraffic Start(HttpClient client) => new(client);

    public IReadOnlyList<Answer> Answers
    {
        get
        {
            lock (answers)
            {
                return [.. answers];
            }
        }
    }

    public IReadOnlyList<long> Accepted => [.. Answers.Where(a => a.TaskId is not null).Select(a => a.TaskId!.Value)];

    public Task UntilAsync(Func<IReadOnlyList<Answer>, bool> condition, TimeSpan timeout, string what) =>
        Deadline.UntilAsync(
            () =>
            {
                if (loop.IsFaulted)
                {
                    loop.GetAwaiter().GetResult();
                }

                return condition(Answers);
            },
            timeout,
            what);

    /// <summary>Stops sending and returns every answer.</summary>
    public async Task<IReadOnlyList<Answer>> StopAsync()
    {
        await stop.CancelAsync();
        await loop;
        return Answers;
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        try
        {
            await loop;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Reported by StopAsync when the test got that far.
        }

        stop.Dispose();
    }

    private async Task RunAsync()
    {
        var formats = new[] { "wav", "ogg", "flac" };
        for (var i = 0; !stop.IsCancellationRequested; i++)
        {
            await SendAsync("upload", () => client.UploadAsync(audio, $"flow-{i}.mp3", formats[i % formats.Length]));
            await SendAsync("list", () => client.GetAsync("/api/tasks"));
            try
            {
                await Task.Delay(150, stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task SendAsync(string request, Func<Task<HttpResponseMessage>> send)
    {
        Answer answer;
        try
        {
            using var response = await send();
            var body = await response.Content.ReadAsStringAsync();
            long? id = null;
            if (request == "upload" && response.StatusCode == HttpStatusCode.Created)
            {
                id = (await response.Content.ReadFromJsonAsync<TaskResponse>(ApiClient.Json))!.Id;
            }

            answer = new Answer(request, response.StatusCode, response.Content.Headers.ContentType?.MediaType, body, id, DateTime.UtcNow);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            // No answer (a reset or the client's timeout): the service must answer even when a backend is away.
            answer = new Answer(request, 0, null, e.Message, null, DateTime.UtcNow);
        }

        lock (answers)
        {
            answers.Add(answer);
        }
    }
}
