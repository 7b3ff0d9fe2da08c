using System.Net;
using System.Net.Sockets;
using System.Text;
using AudioConverter.Infrastructure.Notifications;

namespace AudioConverter.Tests.Security;

/// <summary>SMTP credentials never travel in plain text, even when a server (or a man in the middle) offers no STARTTLS.</summary>
public sealed class SmtpTlsTests
{
    [Fact]
    public async Task AutoModeRefusesToSendThePasswordWhenStartTlsIsStripped()
    {
        await using var server = await PlainSmtpServer.StartAsync();
        var sender = new SmtpMailSender(new NotificationOptions
        {
            SmtpHost = "127.0.0.1",
            SmtpPort = server.Port,
            UseStartTls = "Auto",
            Username = "mailer",
            Password = "s3cret-password",
            From = "noreply@example.com",
            TimeoutSeconds = 10,
        });

        var error = await Assert.ThrowsAsync<System.Security.Authentication.AuthenticationException>(
            () => sender.SendAsync("owner@example.com", "Done", "Your task is processed.", default));

        Assert.Contains("password was not sent", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(server.Received, line => line.StartsWith("AUTH", StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain(server.Received, line => line.StartsWith("MAIL FROM", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task WithoutCredentialsAutoModeStillSendsOverPlainText()
    {
        await using var server = await PlainSmtpServer.StartAsync();
        var sender = new SmtpMailSender(new NotificationOptions { SmtpHost = "127.0.0.1", SmtpPort = server.Port, From = "noreply@example.com", TimeoutSeconds = 10 });

        await sender.SendAsync("owner@example.com", "Done", "Your task is processed.", default);

        Assert.Contains(server.Received, line => line.StartsWith("MAIL FROM", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public void CredentialsWithTlsSwitchedOffAreASettingError()
    {
        var options = new NotificationOptions { SmtpHost = "mail.example.com", UseStartTls = "None", Username = "mailer", Password = "x", From = "noreply@example.com" };
        Assert.Contains(new NotificationOptionsRules().Validate(null, options).Failures ?? [], e => e.Contains("Notifications:UseStartTls", StringComparison.Ordinal));
    }

    /// <summary>A tiny SMTP server on loopback that offers AUTH but no STARTTLS, and records every command line.</summary>
    private sealed class PlainSmtpServer : IAsyncDisposable
    {
        private readonly TcpListener listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource stop = new();
        private readonly List<string> received = [];
        private Task? serving;

        public int Port => ((IPEndPoint)listener.LocalEndpoint).Port;

        public IReadOnlyList<string> Received
        {
            get
            {
                lock (received)
                {
                    return [.. received];
                }
            }
        }

        public static Task<PlainSmtpServer> StartAsync()
        {
            var server = new PlainSmtpServer();
            server.listener.Start();
            server.serving = server.ServeAsync();
            return Task.FromResult(server);
        }

        private async Task ServeAsync()
        {
            try
            {
                while (true)
                {
                    using var client = await listener.AcceptTcpClientAsync(stop.Token);
                    await ConverseAsync(client.GetStream());
                }
            }
            catch (OperationCanceledException)
            {
                // Stopped.
            }
        }

        private async Task ConverseAsync(NetworkStream stream)
        {
            using var reader = new StreamReader(stream, Encoding.ASCII);
            await using var writer = new StreamWriter(stream, Encoding.ASCII) { NewLine = "\r\n", AutoFlush = true };
            await writer.WriteLineAsync("220 plain.example ESMTP");
            var inData = false;
            while (await reader.ReadLineAsync(stop.Token) is { } line)
            {
                lock (received)
                {
                    received.Add(line);
                }

                if (inData)
                {
                    if (line == ".")
                    {
                        inData = false;
                        await writer.WriteLineAsync("250 queued");
                    }

                    continue;
                }

                var verb = line.Split(' ')[0].ToUpperInvariant();
                switch (verb)
                {
                    case "EHLO":
                        await writer.WriteLineAsync("250-plain.example");
                        await writer.WriteLineAsync("250-AUTH PLAIN LOGIN");
                        await writer.WriteLineAsync("250 8BITMIME");
                        break;
                    case "AUTH":
                        await writer.WriteLineAsync("235 accepted");
                        break;
                    case "DATA":
                        inData = true;
                        await writer.WriteLineAsync("354 go on");
                        break;
                    case "QUIT":
                        await writer.WriteLineAsync("221 bye");
                        return;
                    default:
                        await writer.WriteLineAsync("250 ok");
                        break;
                }
            }
        }

        public async ValueTask DisposeAsync()
        {
            await stop.CancelAsync();
            listener.Stop();
            if (serving is not null)
            {
                await serving.ContinueWith(_ => { }, TaskScheduler.Default);
            }

            stop.Dispose();
        }
    }
}
