using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace AudioConverter.Bench;

/// <summary>The bench's only way to the server: its public HTTP API.</summary>
internal sealed class ServiceClient(string baseUrl) : IDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private static int userCounter;
    private readonly string runId = Guid.NewGuid().ToString("N")[..8];

    private readonly HttpClient http = new(new SocketsHttpHandler
    {
        MaxConnectionsPerServer = int.MaxValue,
        PooledConnectionLifetime = TimeSpan.FromMinutes(10),
        AutomaticDecompression = DecompressionMethods.None,
    })
    {
        BaseAddress = new Uri(baseUrl + "/"),
        Timeout = TimeSpan.FromMinutes(10),
    };

    public string BaseUrl { get; } = baseUrl;

    /// <summary>Signs a fresh user up and logs it in, recording both requests.</summary>
    public async Task<UserSession> NewUserAsync(Recorder? recorder, CancellationToken cancellationToken)
    {
        var name = $"bench-{runId}-{Interlocked.Increment(ref userCounter)}";
        const string password = "bench-password-1";
        var started = recorder?.Now ?? 0;
        var watch = Stopwatch.StartNew();
        using (var signup = await PostWhileBusyAsync("api/auth/signup", new { username = name, email = name + "@bench.invalid", password1 = password, password2 = password }, cancellationToken))
        {
            recorder?.Add("signup", started, watch.Elapsed.TotalMilliseconds, signup.StatusCode == HttpStatusCode.Created);
            await EnsureAsync(signup, HttpStatusCode.Created, "signup", cancellationToken);
        }

        started = recorder?.Now ?? 0;
        watch.Restart();
        using var login = await PostWhileBusyAsync("api/auth/login", new { username = name, password }, cancellationToken);
        recorder?.Add("login", started, watch.Elapsed.TotalMilliseconds, login.StatusCode == HttpStatusCode.OK);
        await EnsureAsync(login, HttpStatusCode.OK, "login", cancellationToken);
        var token = (await login.Content.ReadFromJsonAsync<JsonElement>(Json, cancellationToken)).GetProperty("token").GetString()!;
        return new UserSession(name, token);
    }

    /// <summary>
    /// Signup and login pass the server's password-hash gate, which answers 503 with Retry-After when every slot is
    /// checking a password (a level of 100 new users at once reaches it). A client is expected to wait and retry; the
    /// bench does, up to 30 times, so a level measures the service rather than stopping at its first busy answer.
    /// </summary>
    private async Task<HttpResponseMessage> PostWhileBusyAsync<T>(string path, T body, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var response = await http.PostAsJsonAsync(path, body, cancellationToken);
            if (response.StatusCode != HttpStatusCode.ServiceUnavailable || attempt == 30)
            {
                return response;
            }

            var wait = response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1);
            response.Dispose();
            await Task.Delay(wait, cancellationToken);
        }
    }

    /// <summary>POST /api/tasks with the file as the multipart part 'fileName'; returns the new task's id, or null with the status.</summary>
    public Task<(long? TaskId, HttpStatusCode Status)> UploadAsync(UserSession user, HttpContent file, string fileName, string newFormat, CancellationToken cancellationToken) =>
        UploadAsync(user, file, fileName, newFormat, [], cancellationToken);

    /// <summary>The same, with conversion options as further form fields (e.g. <c>loudness</c>).</summary>
    public async Task<(long? TaskId, HttpStatusCode Status)> UploadAsync(UserSession user, HttpContent file, string fileName, string newFormat, IReadOnlyList<(string Name, string Value)> fields, CancellationToken cancellationToken)
    {
        using var form = new MultipartFormDataContent();
        file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        form.Add(file, "fileName", fileName);
        form.Add(new StringContent(newFormat), "newFormat");
        foreach (var (name, value) in fields)
        {
            form.Add(new StringContent(value), name);
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, "api/tasks") { Content = form };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", user.Token);
        using var response = await http.SendAsync(request, cancellationToken);
        if (response.StatusCode != HttpStatusCode.Created)
        {
            await response.Content.ReadAsByteArrayAsync(cancellationToken);
            return (null, response.StatusCode);
        }

        var task = await response.Content.ReadFromJsonAsync<TaskView>(Json, cancellationToken);
        user.Track(task!.Id);
        return (task.Id, response.StatusCode);
    }

    public async Task<(List<TaskView>? Tasks, HttpStatusCode Status)> ListAsync(UserSession user, int max, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"api/tasks?max={max}");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", user.Token);
        using var response = await http.SendAsync(request, cancellationToken);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            return (null, response.StatusCode);
        }

        return (await response.Content.ReadFromJsonAsync<List<TaskView>>(Json, cancellationToken), response.StatusCode);
    }

    /// <summary>GET /api/tasks/{id} until the task is processed or failed (every 20 ms; the spans come from the task's own times).</summary>
    public async Task<TaskView> WaitForTaskAsync(UserSession user, long id, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"api/tasks/{id}");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", user.Token);
            using var response = await http.SendAsync(request, cancellationToken);
            await EnsureAsync(response, HttpStatusCode.OK, $"GET task {id}", cancellationToken);
            var task = (await response.Content.ReadFromJsonAsync<TaskView>(Json, cancellationToken))!;
            if (task.Status is "processed" or "failed")
            {
                return task;
            }

            if (deadline.Elapsed > timeout)
            {
                throw new TimeoutException($"Task {id} was still {task.Status} after {timeout.TotalSeconds:0} s.");
            }

            await Task.Delay(20, cancellationToken);
        }
    }

    /// <summary>
    /// The server's /metrics (Prometheus text): for each name, the sum of its samples over all label sets (a histogram's
    /// <c>_sum</c> or <c>_count</c>, a counter's <c>_total</c>); 0 for a name not exported yet.
    /// </summary>
    public async Task<Dictionary<string, double>> MetricsAsync(IReadOnlyList<string> names, CancellationToken cancellationToken)
    {
        var text = await http.GetStringAsync("metrics", cancellationToken);
        var sums = names.ToDictionary(n => n, _ => 0.0);
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            var nameEnd = line.IndexOfAny(['{', ' ']);
            if (nameEnd > 0 && sums.ContainsKey(line[..nameEnd])
                && double.TryParse(line[(line.LastIndexOf('}') is var brace and >= 0 ? brace + 1 : nameEnd)..].Trim().Split(' ')[0], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var value))
            {
                sums[line[..nameEnd]] += value;
            }
        }

        return sums;
    }

    /// <summary>A GET whose body is read and dropped; true for 200.</summary>
    public async Task<bool> GetOkAsync(string absoluteUrl, CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync(absoluteUrl, cancellationToken);
        await response.Content.ReadAsByteArrayAsync(cancellationToken);
        return response.StatusCode == HttpStatusCode.OK;
    }

    /// <summary>An authenticated GET whose body is read as bytes, not parsed: its status and length.</summary>
    public async Task<(HttpStatusCode Status, int Length)> GetBodyLengthAsync(UserSession user, string relativeUrl, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, relativeUrl);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", user.Token);
        using var response = await http.SendAsync(request, cancellationToken);
        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        return (response.StatusCode, body.Length);
    }

    /// <summary>An authenticated GET whose body is read and dropped; true when it answers the expected status.</summary>
    public async Task<bool> GetAsAsync(UserSession user, string relativeUrl, HttpStatusCode expected, CancellationToken cancellationToken) =>
        (await GetBodyLengthAsync(user, relativeUrl, cancellationToken)).Status == expected;

    /// <summary>
    /// Polls the users' task lists until every tracked task is processed or failed, or the deadline passes; every
    /// 100 ms unless <paramref name="interval"/> says otherwise (the scale-out bench polls less, its API being measured).
    /// </summary>
    public async Task<List<TaskView>> WaitForAllAsync(IReadOnlyList<UserSession> users, TimeSpan timeout, CancellationToken cancellationToken, TimeSpan? interval = null)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            List<TaskView>? all = [];
            foreach (var user in users)
            {
                var wanted = user.TaskIds.ToHashSet();
                if (wanted.Count == 0)
                {
                    continue;
                }

                var (tasks, status) = await ListAsync(user, 1000, cancellationToken);
                if (tasks is null && status == HttpStatusCode.ServiceUnavailable)
                {
                    // A backend briefly away (the shared PostgreSQL under load): the answer says try again.
                    all = null;
                    break;
                }

                if (tasks is null)
                {
                    throw new InvalidOperationException($"Listing tasks answered {(int)status}.");
                }

                all.AddRange(tasks.Where(t => wanted.Contains(t.Id)));
            }

            var expected = users.Sum(u => u.TaskIds.Count);
            if (all is not null && all.Count == expected && all.All(t => t.Status is "processed" or "failed"))
            {
                return all;
            }

            if (deadline.Elapsed > timeout)
            {
                throw new TimeoutException($"{all?.Count(t => t.Status is "processed" or "failed")} of {expected} tasks finished within {timeout.TotalSeconds:0} s.");
            }

            await Task.Delay(interval ?? TimeSpan.FromMilliseconds(100), cancellationToken);
        }
    }

    /// <summary>
    /// DELETE /api/tasks/{id} for every task the users made. A task being converted answers 409 and is retried
    /// until its conversion ends; returns how many could not be deleted by the deadline.
    /// </summary>
    public async Task<int> DeleteAllAsync(IEnumerable<UserSession> users, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        var pending = users.SelectMany(u => u.TaskIds.Select(id => (User: u, Id: id))).ToList();
        while (pending.Count > 0 && deadline.Elapsed < timeout)
        {
            var conflicts = new System.Collections.Concurrent.ConcurrentBag<(UserSession, long)>();
            await Parallel.ForEachAsync(pending, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken }, async (item, ct) =>
            {
                using var request = new HttpRequestMessage(HttpMethod.Delete, $"api/tasks/{item.Id}");
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", item.User.Token);
                using var response = await http.SendAsync(request, ct);
                if (response.StatusCode is HttpStatusCode.NoContent or HttpStatusCode.NotFound)
                {
                    item.User.Forget(item.Id);
                }
                else
                {
                    conflicts.Add(item);
                }
            });
            pending = [.. conflicts];
            if (pending.Count > 0)
            {
                await Task.Delay(250, cancellationToken);
            }
        }

        return pending.Count;
    }

    private static async Task EnsureAsync(HttpResponseMessage response, HttpStatusCode expected, string what, CancellationToken cancellationToken)
    {
        if (response.StatusCode != expected)
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            throw new InvalidOperationException($"{what} answered {(int)response.StatusCode}: {body}");
        }
    }

    public void Dispose() => http.Dispose();
}
