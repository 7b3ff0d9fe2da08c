using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using AudioConverter.Tests.Faults;
using AudioConverter.Tests.Fixtures;

namespace AudioConverter.Tests.Security;

/// <summary>Kestrel's limits only exist on a real socket, so these run against the built server as a process.</summary>
[Collection(ProcessCollection.Name)]
public sealed class RequestLimitTests
{
    private static readonly Dictionary<string, string> Settings = new()
    {
        ["RequestLimits:RequestHeadersTimeoutSeconds"] = "2",
        ["RequestLimits:MinRequestBodyBytesPerSecond"] = "1000",
        ["RequestLimits:MinRequestBodyGraceSeconds"] = "2",
        ["Uploads:MaxFileBytes"] = "1000000",
        ["Uploads:MaxSections"] = "4",
    };

    [Fact]
    public async Task OversizedHeadersTooManyHeadersOversizedBodiesAndTooManyPartsAreRefused()
    {
        await using var server = await ServerProcess.StartAsync(ServerProcess.NewDataDirectory(), Settings);
        var anonymous = server.CreateClient();
        var user = await anonymous.NewUserAsync(server.CreateClient);

        using (var big = new HttpRequestMessage(HttpMethod.Get, "/api/tasks"))
        {
            big.Headers.Add("X-Big", new string('a', 40 * 1024));
            Assert.Equal(HttpStatusCode.RequestHeaderFieldsTooLarge, (await user.SendAsync(big)).StatusCode);
        }

        using (var many = new HttpRequestMessage(HttpMethod.Get, "/api/tasks"))
        {
            for (var i = 0; i < 100; i++)
            {
                many.Headers.Add($"X-Header-{i}", "x");
            }

            Assert.Equal(HttpStatusCode.RequestHeaderFieldsTooLarge, (await user.SendAsync(many)).StatusCode);
        }

        var tooLarge = await user.UploadAsync([.. AudioSamples.Get("wav", 3).Take(44), .. new byte[2_000_000]], "big.wav", "mp3");
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge.StatusCode);
        Assert.Equal("/problems/too-large", (await tooLarge.ProblemAsync()).GetProperty("type").GetString());

        using var form = new MultipartFormDataContent();
        for (var i = 0; i < 6; i++)
        {
            form.Add(new StringContent("x"), $"extra{i}");
        }

        form.Add(new ByteArrayContent(AudioSamples.Get("mp3")), "fileName", "a.mp3");
        form.Add(new StringContent("wav"), "newFormat");
        var tooManyParts = await user.PostAsync("/api/tasks", form);
        Assert.Equal(HttpStatusCode.BadRequest, tooManyParts.StatusCode);
        Assert.Contains("more than 4 parts", (await tooManyParts.ProblemAsync()).GetProperty("detail").GetString(), StringComparison.Ordinal);

        // The same server still serves a normal request: the refusals were about the requests.
        Assert.Equal(HttpStatusCode.OK, (await user.GetAsync("/api/tasks")).StatusCode);
        Assert.Equal(0, await TaskRows.CountAsync(server.DatabasePath));
    }

    [Fact]
    public async Task AClientSendingHeadersAByteASecondIsCutOff()
    {
        await using var server = await ServerProcess.StartAsync(ServerProcess.NewDataDirectory(), Settings);
        using var socket = new TcpClient();
        await socket.ConnectAsync(IPAddress.Loopback, server.Port);
        var stream = socket.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes("GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "));

        var (elapsed, answer) = await TrickleUntilClosedAsync(stream, TimeSpan.FromSeconds(30));

        Assert.True(elapsed < TimeSpan.FromSeconds(15), $"the connection stayed open {elapsed}");
        Assert.True(answer.Length == 0 || answer.StartsWith("HTTP/1.1 408", StringComparison.Ordinal), answer);
    }

    [Fact]
    public async Task AnUploadSentAByteASecondIsCutOffAndLeavesNoTask()
    {
        await using var server = await ServerProcess.StartAsync(ServerProcess.NewDataDirectory(), Settings);
        var user = await server.CreateClient().NewUserAsync(server.CreateClient);
        using var socket = new TcpClient();
        await socket.ConnectAsync(IPAddress.Loopback, server.Port);
        var stream = socket.GetStream();
        const string boundary = "slow-boundary";
        var preamble = Encoding.ASCII.GetBytes(
            $"--{boundary}\r\nContent-Disposition: form-data; name=\"newFormat\"\r\n\r\nmp3\r\n" +
            $"--{boundary}\r\nContent-Disposition: form-data; name=\"fileName\"; filename=\"slow.wav\"\r\n\r\n");
        var head = Encoding.ASCII.GetBytes(
            "POST /api/tasks HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
            $"Authorization: {user.DefaultRequestHeaders.Authorization}\r\n" +
            $"Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: 900000\r\n\r\n");
        await stream.WriteAsync((byte[])[.. head, .. preamble, .. StalledUpload.WavHeader(800_000)]);

        var (elapsed, answer) = await TrickleUntilClosedAsync(stream, TimeSpan.FromSeconds(40));

        Assert.True(elapsed < TimeSpan.FromSeconds(20), $"the connection stayed open {elapsed}");
        Assert.True(answer.Length == 0 || answer.StartsWith("HTTP/1.1 408", StringComparison.Ordinal), answer);
        Assert.Equal(0, await TaskRows.CountAsync(server.DatabasePath));
        Assert.Equal("[]", await user.GetStringAsync("/api/tasks"));
    }

    /// <summary>Sends one byte a second until the server closes the connection; returns how long that took and what it answered.</summary>
    private static async Task<(TimeSpan Elapsed, string Answer)> TrickleUntilClosedAsync(NetworkStream stream, TimeSpan limit)
    {
        var stopwatch = Stopwatch.StartNew();
        var buffer = new byte[4096];
        var answer = new StringBuilder();
        var reading = stream.ReadAsync(buffer).AsTask();
        while (stopwatch.Elapsed < limit)
        {
            if (await Task.WhenAny(reading, Task.Delay(1000)) == reading)
            {
                int read;
                try
                {
                    read = await reading;
                }
                catch (IOException)
                {
                    break;
                }

                if (read == 0)
                {
                    break;
                }

                answer.Append(Encoding.ASCII.GetString(buffer, 0, read));
                reading = stream.ReadAsync(buffer).AsTask();
                continue;
            }

            try
            {
                await stream.WriteAsync("a"u8.ToArray());
            }
            catch (IOException)
            {
                break;
            }
        }

        return (stopwatch.Elapsed, answer.ToString());
    }
}
