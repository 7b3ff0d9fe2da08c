using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace AudioConverter.Cli;

public sealed record TaskInfo(long Id, string FileName, string OriginalFormat, string NewFormat, string Status, string? Error, DateTime CreatedAt, long InputBytes, long? OutputBytes, string? ConvertedUrl, int? Progress = null);

/// <summary>An HTTP answer that was not a success, with the problem's sentence when the server sent one.</summary>
public sealed class ApiException(HttpStatusCode status, string message) : Exception(message)
{
    public HttpStatusCode Status { get; } = status;
}

/// <summary>The few calls the CLI makes, with problem+json turned into one readable sentence.</summary>
public sealed class ApiClient(HttpClient http)
{
    public HttpClient Http => http;

    public static HttpClient Create(Credentials credentials, HttpMessageHandler? handler = null)
    {
        var http = handler is null ? new HttpClient() : new HttpClient(handler, disposeHandler: false);
        http.BaseAddress = new Uri(credentials.Server.TrimEnd('/') + "/");
        http.Timeout = Timeout.InfiniteTimeSpan;
        if (credentials.Bearer.Length > 0)
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", credentials.Bearer);
        }

        return http;
    }

    public async Task<TaskInfo> UploadAsync(string file, string format, IReadOnlyList<KeyValuePair<string, string>> fields, string idempotencyKey, Action<long> progress, CancellationToken cancellationToken)
    {
        await using var stream = File.OpenRead(file);
        using var form = new MultipartFormDataContent();
        var content = new StreamContent(new ProgressStream(stream, progress), 64 * 1024);
        content.Headers.ContentLength = stream.Length;
        form.Add(content, "fileName", Path.GetFileName(file));
        form.Add(new StringContent(format), "newFormat");
        foreach (var (name, value) in fields)
        {
            form.Add(new StringContent(value), name);
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, "api/tasks") { Content = form };
        request.Headers.Add("Idempotency-Key", idempotencyKey);
        using var response = await http.SendAsync(request, cancellationToken);
        var task = await ReadAsync<TaskInfo>(response, cancellationToken);

        // A replay is the first answer, as it was then: ask for the task as it is now (the event stream only brings what follows).
        return response.Headers.TryGetValues("Idempotent-Replayed", out var replayed) && replayed.Contains("true", StringComparer.OrdinalIgnoreCase)
            ? await FindAsync(task.Id, cancellationToken) ?? throw new ApiException(HttpStatusCode.NotFound, $"task {task.Id}, started by an earlier run, was deleted; run again to upload anew.")
            : task;
    }

    /// <summary>The task, or null when it no longer exists.</summary>
    public async Task<TaskInfo?> FindAsync(long id, CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync($"api/tasks/{id}", cancellationToken);
        return response.StatusCode == HttpStatusCode.NotFound ? null : await ReadAsync<TaskInfo>(response, cancellationToken);
    }

    /// <summary>The format a preset (built-in or the user's own) converts to, or null when the server has no preset of that name.</summary>
    public async Task<string?> PresetFormatAsync(string name, CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync("api/presets", cancellationToken);
        var presets = await ReadAsync<List<JsonElement>>(response, cancellationToken);
        return presets
            .Where(p => p.TryGetProperty("name", out var n) && string.Equals(n.GetString(), name, StringComparison.Ordinal))
            .Select(p => p.TryGetProperty("newFormat", out var f) ? f.GetString() : null)
            .FirstOrDefault();
    }

    public async Task<List<TaskInfo>> ListAsync(int max, CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync($"api/tasks?max={max}&order=1", cancellationToken);
        return await ReadAsync<List<TaskInfo>>(response, cancellationToken);
    }

    public async Task DeleteAsync(long id, CancellationToken cancellationToken)
    {
        using var response = await http.DeleteAsync($"api/tasks/{id}", cancellationToken);
        await EnsureAsync(response, cancellationToken);
    }

    /// <summary>Downloads the converted file to a temporary name beside the target, then moves it into place.</summary>
    public async Task DownloadAsync(long id, string target, bool overwrite, CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync($"api/tasks/{id}/converted", HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        await EnsureAsync(response, cancellationToken);
        var partial = target + ".part";
        await using (var output = File.Create(partial))
        {
            await response.Content.CopyToAsync(output, cancellationToken);
        }

        File.Move(partial, target, overwrite);
    }

    public async Task<string> LoginAsync(string username, string password, CancellationToken cancellationToken)
    {
        using var response = await http.PostAsJsonAsync("api/auth/login", new { username, password }, cancellationToken);
        var body = await ReadAsync<JsonElement>(response, cancellationToken);
        return body.GetProperty("token").GetString()!;
    }

    /// <summary>Checks a key by a call every task-reading key may make.</summary>
    public async Task CheckAsync(CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync("api/tasks?max=1", cancellationToken);
        await EnsureAsync(response, cancellationToken);
    }

    private static async Task<T> ReadAsync<T>(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        await EnsureAsync(response, cancellationToken);
        return (await response.Content.ReadFromJsonAsync<T>(JsonSerializerOptions.Web, cancellationToken))!;
    }

    private static async Task EnsureAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        var message = $"the server answered {(int)response.StatusCode}";
        try
        {
            using var problem = JsonDocument.Parse(text);
            if (problem.RootElement.TryGetProperty("detail", out var detail) && detail.GetString() is { Length: > 0 } sentence)
            {
                message = sentence;
            }
        }
        catch (JsonException)
        {
            // Not a problem body: the status says enough.
        }

        throw new ApiException(response.StatusCode, message);
    }

    /// <summary>Reports how many bytes of the file have been sent.</summary>
    private sealed class ProgressStream(Stream inner, Action<long> progress) : Stream
    {
        private long sent;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => inner.Length;
        public override long Position { get => sent; set => throw new NotSupportedException(); }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var read = await inner.ReadAsync(buffer, cancellationToken);
            sent += read;
            progress(sent);
            return read;
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var read = inner.Read(buffer, offset, count);
            sent += read;
            progress(sent);
            return read;
        }

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
