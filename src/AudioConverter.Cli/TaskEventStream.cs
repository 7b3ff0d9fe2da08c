using System.Net;
using System.Text;
using System.Text.Json;

namespace AudioConverter.Cli;

/// <summary>
/// One GET /api/events for the whole run: every task change of the account, kept as the newest state per task, so each
/// file's line follows its conversion percent without polling. A broken stream reconnects with Last-Event-ID (nothing
/// is missed); while it is down, or when the server refuses it (an API key without tasks:read, too many streams),
/// <see cref="FollowAsync"/> polls the task instead.
/// </summary>
public sealed class TaskEventStream : IAsyncDisposable
{
    public static readonly TimeSpan ReconnectDelay = TimeSpan.FromSeconds(1);

    private readonly HttpClient http;
    private readonly Lock gate = new();
    private readonly Dictionary<long, (long EventId, string Type, TaskInfo Task)> latest = [];
    private readonly CancellationTokenSource stop = new();
    private TaskCompletionSource changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task loop = Task.CompletedTask;
    private string? lastEventId;
    private volatile bool connected;

    public TaskEventStream(HttpClient http) => this.http = http;

    /// <summary>True while the stream is open: then changes arrive through it and nothing needs polling.</summary>
    public bool Connected => connected;

    /// <summary>Opens the stream and waits (up to <paramref name="timeout"/>) until the server has accepted or refused it.</summary>
    public async Task StartAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var opened = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        loop = Task.Run(() => RunAsync(opened, stop.Token), CancellationToken.None);
        await Task.WhenAny(opened.Task, Task.Delay(timeout, cancellationToken));
    }

    /// <summary>
    /// Follows <paramref name="task"/> until it is processed or failed, calling <paramref name="changedTo"/> on each
    /// change: from the stream while it is open, by polling every <paramref name="pollInterval"/> while it is not.
    /// </summary>
    public async Task<TaskInfo> FollowAsync(TaskInfo task, ApiClient api, TimeSpan pollInterval, Action<TaskInfo> changedTo, CancellationToken cancellationToken)
    {
        var current = task;
        var seen = 0L;
        while (current.Status is not ("processed" or "failed"))
        {
            Task wait;
            (long EventId, string Type, TaskInfo Task) newest;
            bool found;
            lock (gate)
            {
                wait = changed.Task;
                found = latest.TryGetValue(task.Id, out newest);
            }

            if (found && newest.EventId > seen)
            {
                seen = newest.EventId;
                if (newest.Type == "task.deleted")
                {
                    throw new ApiException(HttpStatusCode.NotFound, $"task {task.Id} was deleted while it was converted.");
                }

                current = newest.Task;
                changedTo(current);
            }
            else if (connected)
            {
                await wait.WaitAsync(cancellationToken);
            }
            else
            {
                await Task.Delay(pollInterval, cancellationToken);
                current = await api.FindAsync(task.Id, cancellationToken) ?? throw new ApiException(HttpStatusCode.NotFound, $"task {task.Id} was deleted while it was converted.");
                changedTo(current);
            }
        }

        return current;
    }

    private async Task RunAsync(TaskCompletionSource opened, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, "api/events");
                request.Headers.Accept.ParseAdd("text/event-stream");
                if (lastEventId is not null)
                {
                    request.Headers.TryAddWithoutValidation("Last-Event-ID", lastEventId);
                }

                using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
                if (response.IsSuccessStatusCode)
                {
                    SetConnected(true);
                    opened.TrySetResult();
                    await ReadAsync(response, cancellationToken);
                }
                else if (response.StatusCode == HttpStatusCode.BadRequest)
                {
                    // The id is not one the server knows (another server, a reset database): start from now, and poll meanwhile.
                    lastEventId = null;
                }
            }
            catch (Exception e) when (e is HttpRequestException or IOException or JsonException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                // The connection broke: reconnect below, resuming after the last event received.
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                break;
            }
            finally
            {
                SetConnected(false);
            }

            opened.TrySetResult();
            try
            {
                await Task.Delay(ReconnectDelay, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    private async Task ReadAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        using var reader = new StreamReader(body, Encoding.UTF8);
        string? id = null, type = null;
        var data = new StringBuilder();
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.Length == 0)
            {
                Dispatch(id, type, data.ToString());
                id = type = null;
                data.Clear();
            }
            else if (line.StartsWith("id:", StringComparison.Ordinal))
            {
                id = line[3..].Trim();
            }
            else if (line.StartsWith("event:", StringComparison.Ordinal))
            {
                type = line[6..].Trim();
            }
            else if (line.StartsWith("data:", StringComparison.Ordinal))
            {
                data.Append(line[5..].TrimStart(' ')).Append('\n');
            }
        }
    }

    private void Dispatch(string? id, string? type, string data)
    {
        if (id is null || type is null || !type.StartsWith("task.", StringComparison.Ordinal) || !long.TryParse(id, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var eventId))
        {
            return;
        }

        lastEventId = id;
        var task = JsonSerializer.Deserialize<TaskInfo>(data, JsonSerializerOptions.Web);
        if (task is null)
        {
            return;
        }

        TaskCompletionSource previous;
        lock (gate)
        {
            latest[task.Id] = (eventId, type, task);
            previous = changed;
            changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        previous.TrySetResult();
    }

    private void SetConnected(bool value)
    {
        TaskCompletionSource previous;
        lock (gate)
        {
            connected = value;
            previous = changed;
            changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        previous.TrySetResult();
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        await loop;
        stop.Dispose();
    }
}
