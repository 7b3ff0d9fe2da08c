using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using AudioConverter.Server.Tasks;
using AudioConverter.Tests.Fixtures;
using AudioConverter.Tests.Security;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AudioConverter.Tests.Notifications;

/// <summary>The owner of a finished task gets one e-mail through a real SMTP server; the mail never decides the task's fate.</summary>
public sealed class NotificationTests
{
    private const string BaseUrl = "https://audio.example.test";

    [Fact]
    public async Task AProcessedTaskSendsItsOwnerExactlyOneEmailSayingItIsReady()
    {
        using var factory = new AppFactory(MailDrop.Settings(BaseUrl + "/"));
        var (client, address) = await NewUserAsync(factory);

        var task = await client.UploadOkAsync(AudioSamples.Get("mp3"), "song.mp3", "wav");
        var done = await client.WaitForTaskAsync(task.Id);
        Assert.Equal("processed", done.Status);
        var message = Assert.Single(await MailDrop.WaitForAsync(address));

        Assert.Equal("song.mp3 is ready as WAV", message.Subject);
        Assert.Equal(address, Assert.Single(message.To.Mailboxes).Address);
        Assert.Equal("noreply@audioconverter.test", Assert.Single(message.From.Mailboxes).Address);
        var body = message.TextBody;
        Assert.Matches(@"song\.mp3 has been converted to WAV \(\d+ KB, 0 min 3 s\)\.", body);
        Assert.Contains($"{BaseUrl}/api/tasks/{task.Id}/converted", body, StringComparison.Ordinal);

        // Mail goes out one at a time in order: once a second task's e-mail has arrived, a duplicate of the first would have too.
        var second = await client.UploadOkAsync(AudioSamples.Get("flac"), "second.flac", "mp3");
        Assert.Equal("processed", (await client.WaitForTaskAsync(second.Id)).Status);
        var both = await MailDrop.WaitForAsync(address, count: 2);
        Assert.Equal(["second.flac is ready as MP3", "song.mp3 is ready as WAV"], both.Select(m => m.Subject).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task AFailedTaskSendsItsOwnerTheErrorSentence()
    {
        using var factory = new AppFactory(MailDrop.Settings());
        var (client, address) = await NewUserAsync(factory);
        var bytes = new byte[8192];
        new Random(11).NextBytes(bytes);
        "OggS"u8.CopyTo(bytes);

        var task = await client.UploadOkAsync(bytes, "broken.ogg", "mp3");
        var done = await client.WaitForTaskAsync(task.Id);

        Assert.Equal("failed", done.Status);
        var message = Assert.Single(await MailDrop.WaitForAsync(address));
        Assert.Equal("broken.ogg could not be converted", message.Subject);
        Assert.Contains("broken.ogg could not be converted to MP3:\n" + done.Error + "\n", message.TextBody!.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.Contains($"/api/tasks/{task.Id}", message.TextBody, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AHostileFileNameAddsNoHeaderAndNoRecipient()
    {
        using var factory = new AppFactory(MailDrop.Settings());
        var (client, address) = await NewUserAsync(factory);
        var victim = $"victim-{Guid.NewGuid():N}@example.com";
        var name = $"song\r\nBcc: {victim}\r\nX-Injected: yes\r\n\r\nforged body.mp3";

        var response = await client.PostAsync("/api/tasks", RawMultipart(AudioSamples.Get("mp3"), name));
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        var task = (await response.Content.ReadFromJsonAsync<TaskResponse>(ApiClient.Json))!;
        Assert.Equal("processed", (await client.WaitForTaskAsync(task.Id)).Status);
        var message = Assert.Single(await MailDrop.WaitForAsync(address));

        Assert.Equal(address, message.Headers["X-Envelope-To"]);
        Assert.Equal(address, Assert.Single(message.To.Mailboxes).Address);
        Assert.Empty(message.Cc);
        Assert.Empty(message.Bcc);
        Assert.False(message.Headers.Contains("X-Injected"));
        Assert.Single(message.Headers, h => h.Field.Equals("Subject", StringComparison.OrdinalIgnoreCase));
        Assert.Equal(task.FileName + " is ready as WAV", message.Subject);
        Assert.DoesNotContain(message.Subject!, char.IsControl);
        Assert.StartsWith("Hello,", message.TextBody, StringComparison.Ordinal);
        Assert.Empty(MailDrop.To(victim));
    }

    [Fact]
    public async Task AnUnreachableMailServerGivesTheMessageUpWithAWarningWithoutThePassword()
    {
        var password = "pw-" + Guid.NewGuid().ToString("N");
        var settings = MailDrop.Settings();
        settings["Notifications:SmtpPort"] = ClosedPort().ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["Notifications:Username"] = "mailer";
        settings["Notifications:Password"] = password;
        settings["Notifications:MaxAttempts"] = "2";
        using var factory = new AppFactory(settings);
        var capture = new LogCapture();
        using var logged = factory.WithWebHostBuilder(b => b.ConfigureLogging(l => l.AddProvider(capture).SetMinimumLevel(LogLevel.Trace).AddFilter<LogCapture>((string?)null, LogLevel.Trace)));
        var name = "n" + Guid.NewGuid().ToString("N")[..12];
        var client = await logged.CreateClient().NewUserAsync(logged.CreateClient, name);

        // The signup's verification e-mail is the message that cannot be sent.
        var gaveUp = "Gave up the email.verify message";
        await Faults.Deadline.UntilAsync(
            () => capture.Lines.Any(l => l.StartsWith("Warning", StringComparison.Ordinal) && l.Contains(gaveUp, StringComparison.Ordinal) && l.Contains("after 2 attempts", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(30),
            "a warning that the e-mail was given up:\n" + capture.All);

        Assert.Equal(System.Net.HttpStatusCode.OK, (await client.GetAsync("/api/me")).StatusCode);
        Assert.DoesNotContain(password, capture.All, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithoutAnSmtpHostNothingIsQueuedOrSentAndTasksStillFinish()
    {
        using var factory = new AppFactory();
        var name = "n" + Guid.NewGuid().ToString("N")[..12];
        var client = await factory.CreateClient().NewUserAsync(factory.CreateClient, name);

        var task = await client.UploadOkAsync(AudioSamples.Get("mp3"), "quiet.mp3", "wav");

        Assert.Equal("processed", (await client.WaitForTaskAsync(task.Id)).Status);
        await using var scope = factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AudioConverter.Infrastructure.Data.AppDbContext>();
        Assert.Equal(0, await Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.CountAsync(db.Outbox, m => m.Kind == "email"));
        Assert.Empty(MailDrop.To($"{name}@example.com"));
    }

    /// <summary>A new user whose address is verified through the link the signup mailed, so notifications may reach it.</summary>
    private static async Task<(HttpClient Client, string Address)> NewUserAsync(WebApplicationFactory<Program> factory)
    {
        var name = "n" + Guid.NewGuid().ToString("N")[..12];
        var client = await factory.CreateClient().NewUserAsync(factory.CreateClient, name);
        var address = $"{name}@example.com";
        await MailDrop.VerifyAsync(client, address);
        return (client, address);
    }

    private static int ClosedPort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>A multipart body with the file name as RFC 5987 <c>filename*</c>, so CR and LF travel percent-encoded.</summary>
    private static ByteArrayContent RawMultipart(byte[] file, string fileName)
    {
        const string boundary = "notification-name-boundary";
        var head = Encoding.ASCII.GetBytes(
            $"--{boundary}\r\nContent-Disposition: form-data; name=\"newFormat\"\r\n\r\nwav\r\n" +
            $"--{boundary}\r\nContent-Disposition: form-data; name=\"fileName\"; filename=\"upload.mp3\"; filename*=UTF-8''{Uri.EscapeDataString(fileName)}\r\nContent-Type: audio/mpeg\r\n\r\n");
        var tail = Encoding.ASCII.GetBytes($"\r\n--{boundary}--\r\n");
        var content = new ByteArrayContent([.. head, .. file, .. tail]);
        content.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse($"multipart/form-data; boundary={boundary}");
        return content;
    }
}
