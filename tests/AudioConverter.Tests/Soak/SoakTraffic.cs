using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using AudioConverter.Server.Tasks;
using AudioConverter.Tests.Fixtures;
using AudioConverter.Tests.Security;

namespace AudioConverter.Tests.Soak;

/// <summary>What the client knows about one task it uploaded.</summary>
public sealed class SoakTask(long id, int user, bool badInput, DateTime acceptedAt)
{
    public long Id { get; } = id;

    /// <summary>Which of the soak's users owns it.</summary>
    public int User { get; } = user;

    /// <summary>Uploaded from bytes that are not audio: the task must end failed for the input's fault.</summary>
    public bool BadInput { get; } = badInput;

    public DateTime AcceptedAt { get; } = acceptedAt;

    /// <summary>A DELETE answered 204.</summary>
    public bool Deleted { get; set; }

    /// <summary>A DELETE got no clear answer (no answer, 503): the row may or may not be gone.</summary>
    public bool MaybeDeleted { get; set; }

    /// <summary>Answered 404 although never deleted: the checker reports it lost if its row is gone.</summary>
    public bool Vanished { get; set; }
}

/// <summary>
/// Users who upload, re-convert and delete through both APIs while the faults run; bounded by a number of uploads
/// and by the time the caller gives. Every answer is counted; the client's own view of each task is kept for the
/// invariant checker (what it was told was accepted, what it was told was deleted).
/// </summary>
public sealed class SoakTraffic
{
    private static readonly string[] Formats = ["mp3", "ogg", "flac", "wav", "opus"];
    private readonly SoakStack stack;
    private readonly int maxUploads;
    private readonly Random random;
    private readonly List<SoakTask> tasks = [];
    private readonly Dictionary<string, int> answers = [];
    private readonly List<string> serverErrors = [];
    private readonly List<string> goodInputsRefused = [];
    private readonly List<(string Name, byte[] Bytes)> goodInputs;
    private readonly byte[] badInput;
    private readonly List<string> tokens = [];
    private readonly HttpClient client = new() { Timeout = TimeSpan.FromSeconds(30) };
    private int uploadsSent;
    private int waiting;

    /// <summary>
    /// At most this many of the client's tasks wait or convert at once before it stops adding work (uploads and
    /// re-conversions): the back-pressure of a real client, so the backlog the stack must drain when the faults stop
    /// stays the same on a fast machine and on a loaded one. Deletes and the faults go on regardless.
    /// </summary>
    public const int MaxWaiting = 6;

    public SoakTraffic(SoakStack stack, int maxUploads, int seed)
    {
        this.stack = stack;
        this.maxUploads = maxUploads;
        random = new Random(seed);
        goodInputs = [("a.mp3", AudioSamples.Get("mp3", 1)), ("b.flac", AudioSamples.Get("flac", 1)), ("c.wav", AudioSamples.Get("wav", 1)), ("d.ogg", AudioSamples.Get("ogg", 1))];

        // An ID3 header passes the upload's cheap check; what follows is not audio, so the worker must fail it as the input's fault.
        var garbage = new byte[4096];
        random.NextBytes(garbage);
        badInput = HostileFiles.Id3Prefixed(garbage);
    }

    public IReadOnlyList<SoakTask> Tasks
    {
        get
        {
            lock (tasks)
            {
                return [.. tasks];
            }
        }
    }

    /// <summary>Answers by request and status ("upload 201", "delete 0" for no answer).</summary>
    public IReadOnlyDictionary<string, int> Answers
    {
        get
        {
            lock (answers)
            {
                return new Dictionary<string, int>(answers);
            }
        }
    }

    /// <summary>Answers 500 or above other than 503: the service must never answer them, whatever the fault.</summary>
    public IReadOnlyList<string> ServerErrors
    {
        get
        {
            lock (serverErrors)
            {
                return [.. serverErrors];
            }
        }
    }

    /// <summary>
    /// Uploads of a good input answered 400: a backend away must be a 503, never an answer that blames the file (every
    /// good input is real audio that converts, and the bad one passes the upload's cheap check too).
    /// </summary>
    public IReadOnlyList<string> GoodInputsRefused
    {
        get
        {
            lock (goodInputsRefused)
            {
                return [.. goodInputsRefused];
            }
        }
    }

    /// <summary>Signs up two users before the faults start, one through each API.</summary>
    public async Task SignUpAsync()
    {
        foreach (var api in stack.Apis)
        {
            using var anonymous = new HttpClient { BaseAddress = api.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
            var user = await anonymous.NewUserAsync(() => new HttpClient());
            tokens.Add(user.DefaultRequestHeaders.Authorization!.Parameter!);
            user.Dispose();
        }
    }

    /// <summary>Runs <paramref name="loops"/> request loops until the token is cancelled or every upload has been sent.</summary>
    public Task RunAsync(int loops, CancellationToken stop) =>
        Task.WhenAll(Enumerable.Range(0, loops).Select(i => Task.Run(() => LoopAsync(new Random(Next(int.MaxValue) + i), stop), CancellationToken.None))
            .Append(Task.Run(() => WatchBacklogAsync(new Random(Next(int.MaxValue)), stop), CancellationToken.None)));

    /// <summary>Lists every user's tasks once a second (through either API) and counts those uploaded or processing.</summary>
    private async Task WatchBacklogAsync(Random loopRandom, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            var total = 0;
            var known = true;
            for (var user = 0; user < tokens.Count && known; user++)
            {
                var (status, response) = await SendAsync("list", HttpMethod.Get, "/api/tasks?max=1000", null, user, loopRandom);
                if (status == HttpStatusCode.OK && response is not null)
                {
                    var tasks = await response.Content.ReadFromJsonAsync<List<TaskResponse>>(ApiClient.Json, CancellationToken.None);
                    total += tasks!.Count(t => t.Status is "uploaded" or "processing");
                }
                else
                {
                    // An API or the database is away: keep the last count.
                    known = false;
                }

                response?.Dispose();
            }

            if (known)
            {
                Volatile.Write(ref waiting, total);
            }

            try
            {
                await Task.Delay(TimeSpan.FromSeconds(1), stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private int Next(int max)
    {
        lock (random)
        {
            return random.Next(max);
        }
    }

    private async Task LoopAsync(Random loopRandom, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            var known = Tasks.Where(t => !t.Deleted && !t.Vanished).ToList();
            var roll = loopRandom.NextDouble();
            // While the backlog is full the client waits, deletes included: otherwise deletes alone would empty its task list.
            var room = Volatile.Read(ref waiting) < MaxWaiting;
            if (room && Volatile.Read(ref uploadsSent) < maxUploads && (roll < 0.6 || known.Count < 5))
            {
                await UploadAsync(loopRandom);
            }
            else if (room && known.Count > 0 && roll < 0.82)
            {
                await ReconvertAsync(known[loopRandom.Next(known.Count)], loopRandom);
            }
            else if (room && known.Count > 0)
            {
                await DeleteAsync(known[loopRandom.Next(known.Count)], loopRandom);
            }
            else if (known.Count == 0 && Volatile.Read(ref uploadsSent) >= maxUploads)
            {
                return;
            }

            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(100 + loopRandom.Next(300)), stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task UploadAsync(Random loopRandom)
    {
        var bad = loopRandom.NextDouble() < 0.05;
        var (name, bytes) = bad ? ("broken.mp3", badInput) : goodInputs[loopRandom.Next(goodInputs.Count)];
        using var form = new MultipartFormDataContent();
        form.Add(new ByteArrayContent(bytes), "fileName", name);
        form.Add(new StringContent(Formats[loopRandom.Next(Formats.Length)]), "newFormat");
        var user = loopRandom.Next(tokens.Count);
        var (status, response) = await SendAsync("upload", HttpMethod.Post, "/api/tasks", form, user, loopRandom);
        if (status != 0)
        {
            // Only answered uploads count against the bound: while both APIs are down the loops just wait.
            Interlocked.Increment(ref uploadsSent);
        }
        if (status == HttpStatusCode.BadRequest && !bad && response is not null)
        {
            var text = await response.Content.ReadAsStringAsync(CancellationToken.None);
            lock (goodInputsRefused)
            {
                goodInputsRefused.Add($"{DateTime.UtcNow:HH:mm:ss.fff} {name} answered 400: {text[..Math.Min(text.Length, 300)]}");
            }
        }

        if (status == HttpStatusCode.Created && response is not null)
        {
            var task = (await response.Content.ReadFromJsonAsync<TaskResponse>(ApiClient.Json))!;
            lock (tasks)
            {
                tasks.Add(new SoakTask(task.Id, user, bad, DateTime.UtcNow));
            }
        }

        response?.Dispose();
    }

    private async Task ReconvertAsync(SoakTask task, Random loopRandom)
    {
        var body = JsonContent.Create(new { newFormat = Formats[loopRandom.Next(Formats.Length)] });
        var (status, response) = await SendAsync("reconvert", HttpMethod.Put, $"/api/tasks/{task.Id}", body, task.User, loopRandom);
        response?.Dispose();
        if (status == HttpStatusCode.NotFound)
        {
            lock (tasks)
            {
                // After a DELETE without a clear answer, a 404 says that DELETE did delete it.
                task.Deleted |= task.MaybeDeleted;
                task.Vanished = !task.MaybeDeleted;
            }
        }
    }

    private async Task DeleteAsync(SoakTask task, Random loopRandom)
    {
        var (status, response) = await SendAsync("delete", HttpMethod.Delete, $"/api/tasks/{task.Id}", null, task.User, loopRandom);
        response?.Dispose();
        lock (tasks)
        {
            if (status == HttpStatusCode.NoContent)
            {
                task.Deleted = true;
            }
            else if (status == HttpStatusCode.NotFound)
            {
                // After a DELETE without a clear answer, a 404 says that DELETE did delete it.
                task.Deleted |= task.MaybeDeleted;
                task.Vanished = !task.MaybeDeleted;
            }
            else if (status != HttpStatusCode.Conflict)
            {
                // No answer, or an answer after the row may already be gone (the bucket away while its files were deleted).
                task.MaybeDeleted = true;
            }
        }
    }

    private async Task<(HttpStatusCode Status, HttpResponseMessage? Response)> SendAsync(string what, HttpMethod method, string path, HttpContent? content, int user, Random loopRandom)
    {
        var apis = stack.Apis.ToList();
        var api = apis[loopRandom.Next(apis.Count)];
        using var request = new HttpRequestMessage(method, new Uri(api.BaseAddress, path)) { Content = content };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", tokens[user]);
        HttpResponseMessage? response = null;
        HttpStatusCode status;
        try
        {
            response = await client.SendAsync(request);
            status = response.StatusCode;
            if ((int)status >= 500 && status != HttpStatusCode.ServiceUnavailable)
            {
                var text = await response.Content.ReadAsStringAsync();
                lock (serverErrors)
                {
                    serverErrors.Add($"{DateTime.UtcNow:HH:mm:ss.fff} {method} {path} on {api.Name} answered {(int)status}: {text[..Math.Min(text.Length, 300)]}");
                }
            }
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            // The API was killed or stopped under the request: no answer.
            status = 0;
        }

        lock (answers)
        {
            var key = $"{what} {(int)status}";
            answers[key] = answers.GetValueOrDefault(key) + 1;
        }

        return (status, response);
    }
}
