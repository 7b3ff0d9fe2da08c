using System.Text;
using AudioConverter.Server.Idempotency;
using Microsoft.AspNetCore.Http;

namespace AudioConverter.Tests.Unit;

public sealed class RequestFingerprintTests
{
    private static string Print(string boundary, string body, int chunk, string path = "/api/tasks")
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "POST";
        context.Request.Path = path;
        context.Request.ContentType = $"multipart/form-data; boundary=\"{boundary}\"";
        using var fingerprint = new RequestFingerprint(context.Request);
        var bytes = Encoding.ASCII.GetBytes(body.Replace("{b}", boundary, StringComparison.Ordinal));
        for (var i = 0; i < bytes.Length; i += chunk)
        {
            fingerprint.Append(bytes.AsSpan(i, Math.Min(chunk, bytes.Length - i)));
        }

        return fingerprint.Finish();
    }

    private const string Body = "--{b}\r\nContent-Disposition: form-data; name=\"newFormat\"\r\n\r\nmp3\r\n--{b}\r\nContent-Disposition: form-data; name=\"fileName\"; filename=\"a.wav\"\r\n\r\nRIFF....WAVE\r\n--{b}--\r\n";

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(4096)]
    public void The_boundary_is_left_out_however_the_body_is_split(int chunk)
    {
        var reference = Print("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", Body, 4096);
        Assert.Equal(reference, Print("b7c1e2d4-0000-4f00-9e11-bbbbbbbbbbbb", Body, chunk));
    }

    [Fact]
    public void Another_body_or_path_prints_differently()
    {
        var reference = Print("x1", Body, 5);
        Assert.NotEqual(reference, Print("x1", Body.Replace("mp3", "ogg", StringComparison.Ordinal), 5));
        Assert.NotEqual(reference, Print("x1", Body.Replace("RIFF", "RIFX", StringComparison.Ordinal), 5));
        Assert.NotEqual(reference, Print("x1", Body, 5, "/api/tasks/7"));
    }
}
