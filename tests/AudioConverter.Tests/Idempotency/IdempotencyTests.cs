using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using AudioConverter.Infrastructure.Data;
using AudioConverter.Server.Idempotency;
using AudioConverter.Server.Tasks;
using AudioConverter.Tests.Faults;
using AudioConverter.Tests.Fixtures;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace AudioConverter.Tests.Idempotency;

/// <summary>Idempotency-Key on upload and reconvert, through the real pipeline and database.</summary>
public sealed class IdempotencyTests : IDisposable
{
    private readonly FakeTimeProvider clock = new(DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds()));
    private readonly KestrelApp app;

    public IdempotencyTests()
    {
        app = new KestrelApp(clock);
    }

    private Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactory<Program> Factory => app.Factory;

    public void Dispose() => app.Dispose();

    private Task<HttpClient> NewUserAsync() => app.NewUserAsync();

    private static Task<HttpResponseMessage> UploadAsync(HttpClient client, string? key, byte[] content, string format = "mp3", string name = "tone.wav")
    {
        // A new MultipartFormDataContent each time: a new random boundary, as a real client's retry has.
        var form = new MultipartFormDataContent();
        form.Add(new ByteArrayContent(content), "fileName", name);
        form.Add(new StringContent(format), "newFormat");
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/tasks") { Content = form };
        if (key is not null)
        {
            request.Headers.TryAddWithoutValidation(IdempotencyMiddleware.Header, key);
        }

        return client.SendAsync(request);
    }

    private static async Task<int> TaskCountAsync(HttpClient client) =>
        (await client.GetFromJsonAsync<List<TaskResponse>>("/api/tasks", ApiClient.Json))!.Count;

    [Fact]
    public async Task A_retried_upload_gets_the_first_answer_again_and_makes_no_second_task()
    {
        var user = await NewUserAsync();
        var audio = AudioSamples.Get("wav", 1);
        var first = await UploadAsync(user, "upload-1", audio);
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.False(first.Headers.Contains(IdempotencyMiddleware.ReplayedHeader));
        var second = await UploadAsync(user, "upload-1", audio);

        Assert.Equal(HttpStatusCode.Created, second.StatusCode);
        Assert.Equal(first.Headers.Location, second.Headers.Location);
        Assert.Equal("application/json", second.Content.Headers.ContentType?.MediaType);
        Assert.Equal(await first.Content.ReadAsStringAsync(), await second.Content.ReadAsStringAsync());
        Assert.Equal("true", second.Headers.GetValues(IdempotencyMiddleware.ReplayedHeader).Single());
        Assert.Equal(1, await TaskCountAsync(user));

        // Without the header, or with another key, uploads are new tasks as before.
        Assert.Equal(HttpStatusCode.Created, (await UploadAsync(user, null, audio)).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await UploadAsync(user, "upload-2", audio)).StatusCode);
        Assert.Equal(3, await TaskCountAsync(user));
    }

    [Fact]
    public async Task A_retried_reconvert_is_done_once()
    {
        var user = await NewUserAsync();
        var task = await user.UploadOkAsync(AudioSamples.Get("wav", 1), "tone.wav", "mp3");
        await user.WaitForTaskAsync(task.Id);

        async Task<HttpResponseMessage> PutAsync(string format)
        {
            var request = new HttpRequestMessage(HttpMethod.Put, $"/api/tasks/{task.Id}") { Content = JsonContent.Create(new { newFormat = format }) };
            request.Headers.Add(IdempotencyMiddleware.Header, "again-flac");
            return await user.SendAsync(request);
        }

        var first = await PutAsync("flac");
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        await user.WaitForTaskAsync(task.Id);
        var second = await PutAsync("flac");
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(await first.Content.ReadAsStringAsync(), await second.Content.ReadAsStringAsync());

        // The replay did nothing: the task was converted once more, not twice.
        var now = await user.GetFromJsonAsync<TaskResponse>($"/api/tasks/{task.Id}", ApiClient.Json);
        Assert.Equal("processed", now!.Status);
        Assert.EndsWith("-v2.flac", now.ConvertedUrl, StringComparison.Ordinal);

        var other = await PutAsync("ogg");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, other.StatusCode);
        Assert.Equal(IdempotencyMiddleware.ReusedType, (await other.ProblemAsync()).GetProperty("type").GetString());
    }

    [Fact]
    public async Task A_key_reused_for_another_body_or_route_is_422()
    {
        var user = await NewUserAsync();
        Assert.Equal(HttpStatusCode.Created, (await UploadAsync(user, "k", AudioSamples.Get("wav", 1))).StatusCode);

        var otherFile = await UploadAsync(user, "k", AudioSamples.Get("wav", 2));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, otherFile.StatusCode);
        Assert.Contains("different request", (await otherFile.ProblemAsync()).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await UploadAsync(user, "k", AudioSamples.Get("wav", 1), format: "flac")).StatusCode);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await UploadAsync(user, "k", AudioSamples.Get("wav", 1), name: "other.wav")).StatusCode);

        var put = new HttpRequestMessage(HttpMethod.Put, "/api/tasks/1") { Content = JsonContent.Create(new { newFormat = "flac" }) };
        put.Headers.Add(IdempotencyMiddleware.Header, "k");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await user.SendAsync(put)).StatusCode);
        Assert.Equal(1, await TaskCountAsync(user));

        // Keys belong to their user: another account's "k" is its own.
        var other = await NewUserAsync();
        Assert.Equal(HttpStatusCode.Created, (await UploadAsync(other, "k", AudioSamples.Get("wav", 2))).StatusCode);
    }

    [Fact]
    public async Task Empty_or_overlong_keys_are_400_and_255_characters_are_accepted()
    {
        var user = await NewUserAsync();
        var empty = await UploadAsync(user, "", AudioSamples.Get("wav", 1));
        Assert.Equal(HttpStatusCode.BadRequest, empty.StatusCode);
        Assert.Contains("empty", (await empty.ProblemAsync()).GetProperty("detail").GetString(), StringComparison.Ordinal);
        var tooLong = await UploadAsync(user, new string('k', 256), AudioSamples.Get("wav", 1));
        Assert.Equal(HttpStatusCode.BadRequest, tooLong.StatusCode);
        Assert.Contains("256 characters", (await tooLong.ProblemAsync()).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, await TaskCountAsync(user));
        Assert.Equal(HttpStatusCode.Created, (await UploadAsync(user, new string('k', 255), AudioSamples.Get("wav", 1))).StatusCode);
    }

    [Fact]
    public async Task A_duplicate_while_the_first_is_in_flight_is_409_and_the_first_still_completes()
    {
        var user = await NewUserAsync();
        var gate = new TaskCompletionSource();
        var form = new MultipartFormDataContent();
        form.Add(new StreamContent(new GatedStream(AudioSamples.Get("wav", 1), gate.Task)), "fileName", "tone.wav");
        form.Add(new StringContent("mp3"), "newFormat");
        var slow = new HttpRequestMessage(HttpMethod.Post, "/api/tasks") { Content = form };
        slow.Headers.Add(IdempotencyMiddleware.Header, "slow");
        var firstTask = user.SendAsync(slow);

        await Deadline.UntilAsync(async () =>
        {
            await using var scope = Factory.Services.CreateAsyncScope();
            return await scope.ServiceProvider.GetRequiredService<AppDbContext>().IdempotencyRecords.AnyAsync(r => r.Key == "slow" && r.Status == null);
        }, TimeSpan.FromSeconds(30), "the first request to hold its key");

        var duplicate = await UploadAsync(user, "slow", AudioSamples.Get("wav", 1));
        Assert.Equal(HttpStatusCode.Conflict, duplicate.StatusCode);
        Assert.Contains("still being processed", (await duplicate.ProblemAsync()).GetProperty("detail").GetString(), StringComparison.Ordinal);

        gate.SetResult();
        var first = await firstTask;
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        var retry = await UploadAsync(user, "slow", AudioSamples.Get("wav", 1));
        Assert.Equal(HttpStatusCode.Created, retry.StatusCode);
        Assert.Equal(first.Headers.Location, retry.Headers.Location);
        Assert.Equal(1, await TaskCountAsync(user));
    }

    [Fact]
    public async Task A_refused_request_does_not_hold_its_key_and_answers_expire_after_24_hours()
    {
        var user = await NewUserAsync();
        var refused = await UploadAsync(user, "fix-and-retry", AudioSamples.Get("wav", 1), format: "nonsense");
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        var fixedUp = await UploadAsync(user, "fix-and-retry", AudioSamples.Get("wav", 1));
        Assert.Equal(HttpStatusCode.Created, fixedUp.StatusCode);

        clock.Advance(TimeSpan.FromHours(23));
        Assert.Equal("true", (await UploadAsync(user, "fix-and-retry", AudioSamples.Get("wav", 1))).Headers.GetValues(IdempotencyMiddleware.ReplayedHeader).Single());
        Assert.Equal(1, await TaskCountAsync(user));

        // Past 24 hours the answer is pruned (by the pruner's timer on this clock, or by this call, whichever comes first).
        clock.Advance(TimeSpan.FromHours(1));
        await IdempotencyPruner.PruneAsync(Factory.Services.GetRequiredService<IServiceScopeFactory>(), clock, CancellationToken.None);
        await using (var scope = Factory.Services.CreateAsyncScope())
        {
            Assert.False(await scope.ServiceProvider.GetRequiredService<AppDbContext>().IdempotencyRecords.AnyAsync(r => r.Key == "fix-and-retry"));
        }

        var after = await UploadAsync(user, "fix-and-retry", AudioSamples.Get("wav", 1));
        Assert.Equal(HttpStatusCode.Created, after.StatusCode);
        Assert.False(after.Headers.Contains(IdempotencyMiddleware.ReplayedHeader));
        Assert.Equal(2, await TaskCountAsync(user));
    }

    /// <summary>Serves its first bytes, then waits for the gate before the rest: a request kept in flight.</summary>
    private sealed class GatedStream(byte[] content, Task gate) : Stream
    {
        // Enough to get past the client's send buffer, so the server really sees the request begin.
        private const int GateAt = 100_000;
        private int position;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => content.Length;
        public override long Position { get => position; set => throw new NotSupportedException(); }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (position >= GateAt)
            {
                await gate.WaitAsync(cancellationToken);
            }

            var count = Math.Min(buffer.Length, Math.Min(content.Length - position, position < GateAt ? GateAt - position : int.MaxValue));
            content.AsMemory(position, count).CopyTo(buffer);
            position += count;
            return count;
        }

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
