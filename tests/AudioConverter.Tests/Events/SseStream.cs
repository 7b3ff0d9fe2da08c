using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using AudioConverter.Core.Tasks;
using AudioConverter.Infrastructure.Data;
using AudioConverter.Tests.Fixtures;
using Microsoft.Extensions.DependencyInjection;

namespace AudioConverter.Tests.Events;

/// <summary>One message of an event stream as a client sees it; comments count as heartbeats.</summary>
public sealed record SseMessage(string? Id, string Event, string Data);

/// <summary>An open GET /api/events, parsed line by line as EventSource does.</summary>
public sealed class SseStream : IAsyncDisposable
{
    private readonly HttpResponseMessage response;
    private readonly CancellationTokenSource stop = new();
    private readonly Channel<SseMessage> messages = Channel.CreateUnbounded<SseMessage>();
    private readonly Task reading;

    private SseStream(HttpResponseMessage response)
    {
        this.response = response;
        reading = Task.Run(ReadAsync);
    }

    public int Heartbeats { get; private set; }

    /// <summary>Opens the stream; throws unless it answered 200 text/event-stream (use <see cref="OpenRawAsync"/> to see refusals).</summary>
    public static async Task<SseStream> OpenAsync(HttpClient client, string? lastEventId = null)
    {
        var response = await OpenRawAsync(client, lastEventId);
        if (!response.IsSuccessStatusCode)
        {
            Assert.Fail($"GET /api/events answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        }

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        return new SseStream(response);
    }

    public static async Task<HttpResponseMessage> OpenRawAsync(HttpClient client, string? lastEventId = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/events");
        if (lastEventId is not null)
        {
            request.Headers.TryAddWithoutValidation("Last-Event-ID", lastEventId);
        }

        return await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
    }

    /// <summary>The next event (heartbeats skipped), or a TimeoutException naming what was awaited.</summary>
    public async Task<SseMessage> NextAsync(TimeSpan? timeout = null)
    {
        using var limit = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(30));
        try
        {
            return await messages.Reader.ReadAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException("No event arrived on the stream before the deadline.");
        }
        catch (ChannelClosedException)
        {
            throw new InvalidOperationException("The stream ended.");
        }
    }

    /// <summary>True when nothing but heartbeats arrived within <paramref name="window"/>.</summary>
    public bool TryTake(out SseMessage? message) => messages.Reader.TryRead(out message);

    /// <summary>Completes when the server ends the stream.</summary>
    public Task Ended => reading;

    private async Task ReadAsync()
    {
        try
        {
            await using var body = await response.Content.ReadAsStreamAsync(stop.Token);
            using var reader = new StreamReader(body, Encoding.UTF8);
            string? id = null, type = null;
            var data = new StringBuilder();
            while (await reader.ReadLineAsync(stop.Token) is { } line)
            {
                if (line.Length == 0)
                {
                    if (data.Length > 0 || type is not null)
                    {
                        await messages.Writer.WriteAsync(new SseMessage(id, type ?? "message", data.ToString().TrimEnd('\n')));
                    }

                    id = null;
                    type = null;
                    data.Clear();
                }
                else if (line.StartsWith(':'))
                {
                    Heartbeats++;
                }
                else if (line.StartsWith("id: ", StringComparison.Ordinal))
                {
                    id = line[4..];
                }
                else if (line.StartsWith("event: ", StringComparison.Ordinal))
                {
                    type = line[7..];
                }
                else if (line.StartsWith("data: ", StringComparison.Ordinal))
                {
                    data.Append(line[6..]).Append('\n');
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or HttpRequestException)
        {
            // Closed by the test or by the server.
        }
        finally
        {
            messages.Writer.TryComplete();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        response.Dispose();
        await reading;
        stop.Dispose();
    }
}

/// <summary>
/// Writes task_events rows as the task transitions do (one row per change, the task JSON as data), for tests of the
/// readers: the stream, the dispatcher. Tests that need a real conversion's rows use uploads instead.
/// </summary>
public static class FeedRows
{
    public static async Task<TaskEvent> AppendAsync(IServiceProvider services, long userId, long taskId, string type, object? data = null)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var row = new TaskEvent
        {
            UserId = userId,
            TaskId = taskId,
            Type = type,
            Version = 1,
            Data = JsonSerializer.Serialize(data ?? new { id = taskId, fileName = $"song-{taskId}.mp3", newFormat = "wav", status = type[5..] }, JsonSerializerOptions.Web),
            CreatedAt = DateTime.UtcNow,
        };
        db.TaskEvents.Add(row);
        await db.SaveChangesAsync();
        return row;
    }

    /// <summary>Many rows in one transaction, as a burst of changes would leave them.</summary>
    public static async Task AppendManyAsync(IServiceProvider services, long userId, string type, int count)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        for (var i = 0; i < count; i++)
        {
            db.TaskEvents.Add(new TaskEvent { UserId = userId, TaskId = 100_000 + i, Type = type, Version = 1, Data = $"{{\"id\":{100_000 + i}}}", CreatedAt = DateTime.UtcNow });
        }

        await db.SaveChangesAsync();
    }

    public static async Task<long> UserIdAsync(HttpClient client) =>
        (await client.GetFromJsonAsync<JsonElement>("/api/me", ApiClient.Json)).GetProperty("id").GetInt64();
}
