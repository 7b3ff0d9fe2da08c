using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using AudioConverter.Server.Tasks;
using AudioConverter.Tests.Contracts;
using AudioConverter.Tests.Fixtures;
using AudioConverter.Tests.Soak;
using Npgsql;

namespace AudioConverter.Tests.Faults;

/// <summary>
/// A backend cut off while a good file is being uploaded (the soak's 400s): the answer is 503 problem+json with
/// Retry-After, never a 400 that blames the file, and no task is created; once the backend is back the same bytes are
/// accepted. The host is the real one on a real socket; s3rver and PostgreSQL are the real shared servers, reached
/// through a TCP proxy the test cuts (every connection reset, new ones reset on arrival), as the soak cuts s3rver.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class UploadBackendFaultTests
{
    /// <summary>
    /// Every connection to S3 is reset in the middle of its request, so the AWS SDK throws the socket's own IOException
    /// ("Unable to write data to the transport connection"), which the upload read as a client's body that "ended
    /// before it was complete": 400. Small: the body is read whole, then stored in one PUT. Large: a multipart upload
    /// (5 MB parts) is under way when the cut comes.
    /// </summary>
    [Theory]
    [InlineData(1, 0.5)]
    [InlineData(40, 0.6)]
    public async Task AnS3StoreCutOffDuringAGoodUploadAnswers503AndTheSameBytesAreAcceptedOnceItIsBack(int seconds, double cutAt)
    {
        await using var proxy = new TcpProxy(new Uri(ExternalServices.S3Endpoint).Port);
        using var app = new KestrelApp(overrides: new Dictionary<string, string?>
        {
            ["Storage:Provider"] = "S3",
            ["Storage:S3:ServiceUrl"] = $"http://127.0.0.1:{proxy.Port}",
            ["Storage:S3:Bucket"] = ExternalServices.UniqueName("upload-cut"),
            ["Storage:S3:AccessKey"] = "S3RVER",
            ["Storage:S3:SecretKey"] = "S3RVER",
            ["Storage:S3:CreateBucket"] = "true",
            ["Storage:S3:PartSizeMegabytes"] = "5",
            ["Role"] = "api",
            ["Queue:InProcessWithoutWorker"] = "true",
        });
        await AssertCutAnswers503Async(app, AudioSamples.Get("wav", seconds), "good.wav", cutAt, proxy.CutMidRequest, proxy);
    }

    [Fact]
    public async Task ADatabaseCutOffDuringAGoodUploadAnswers503AndTheSameBytesAreAcceptedOnceItIsBack()
    {
        var database = "ac_" + Guid.NewGuid().ToString("N");
        var connectionString = await ExternalServices.CreatePostgresDatabaseAsync(database);
        try
        {
            var target = new NpgsqlConnectionStringBuilder(connectionString);
            await using var proxy = new TcpProxy(target.Port);
            target.Host = "127.0.0.1";
            target.Port = proxy.Port;
            using var app = new KestrelApp(overrides: new Dictionary<string, string?>
            {
                ["Database:Provider"] = "Postgres",
                ["Database:ConnectionString"] = target.ConnectionString,
                ["Role"] = "api",
                ["Queue:InProcessWithoutWorker"] = "true",
            });
            await AssertCutAnswers503Async(app, AudioSamples.Get("mp3", 1), "good.mp3", 0.5, proxy.Cut, proxy);
        }
        finally
        {
            await ExternalServices.DropPostgresDatabaseAsync(database);
        }
    }

    private static async Task AssertCutAnswers503Async(KestrelApp app, byte[] audio, string fileName, double cutAt, Action cut, TcpProxy proxy)
    {
        using var anonymous = app.CreateClient();
        using var user = await anonymous.NewUserAsync(app.CreateClient);

        // The body stops part-way; the backend is cut; then the rest of the body is sent.
        HttpResponseMessage refused;
        using (var body = new CutMidwayContent(audio, fileName, cutAt, cut))
        {
            refused = await user.PostAsync("/api/tasks", body);
        }

        var text = await refused.Content.ReadAsStringAsync();
        Assert.True(refused.StatusCode == HttpStatusCode.ServiceUnavailable, $"a good upload with the backend cut off answered {(int)refused.StatusCode}: {text}");
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        Assert.True(refused.Headers.RetryAfter?.Delta > TimeSpan.Zero, "503 without Retry-After");
        Assert.DoesNotContain("   at ", text, StringComparison.Ordinal);

        proxy.Restore();
        var accepted = await user.UploadOkAsync(audio, fileName, "mp3");
        var tasks = await user.GetFromJsonAsync<List<TaskResponse>>("/api/tasks", ApiClient.Json);
        Assert.Equal([accepted.Id], tasks!.Select(t => t.Id));
    }

    /// <summary>A multipart upload whose body pauses at a fraction of its length, runs an action, then sends the rest.</summary>
    private sealed class CutMidwayContent : HttpContent
    {
        private readonly byte[] body;
        private readonly int pauseAt;
        private readonly Action atPause;

        public CutMidwayContent(byte[] audio, string fileName, double cutAt, Action atPause)
        {
            using var form = new MultipartFormDataContent();
            form.Add(new StringContent("mp3"), "newFormat");
            form.Add(new ByteArrayContent(audio), "fileName", fileName);
            using var bytes = new MemoryStream();
            form.CopyTo(bytes, null, CancellationToken.None);
            body = bytes.ToArray();
            Headers.ContentType = MediaTypeHeaderValue.Parse(form.Headers.ContentType!.ToString());
            pauseAt = (int)(body.Length * cutAt);
            this.atPause = atPause;
        }

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            await stream.WriteAsync(body.AsMemory(0, pauseAt));
            await stream.FlushAsync();
            atPause();
            await stream.WriteAsync(body.AsMemory(pauseAt));
        }

        protected override bool TryComputeLength(out long length)
        {
            length = body.Length;
            return true;
        }
    }
}
