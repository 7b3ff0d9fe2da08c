using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AudioConverter.Core.Tasks;
using AudioConverter.Infrastructure.Data;
using AudioConverter.Tests.Events;
using AudioConverter.Tests.Fixtures;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace AudioConverter.Tests.Notifications;

/// <summary>E-mail leaves through the outbox, and only to an address its owner verified through the signup's link.</summary>
public sealed class EmailVerificationTests
{
    [Fact]
    public async Task NoNotificationGoesToAnAddressUntilItsOwnerFollowsTheVerificationLink()
    {
        using var factory = new AppFactory(MailDrop.Settings("https://audio.example.test"));
        var (client, address) = await NewUserAsync(factory);
        var me = await client.GetFromJsonAsync<JsonElement>("/api/me", ApiClient.Json);
        Assert.False(me.GetProperty("emailVerified").GetBoolean());
        Assert.True(me.GetProperty("notifications").GetBoolean());
        var userId = me.GetProperty("id").GetInt64();

        await FeedRows.AppendAsync(factory.Services, userId, 1, TaskEventTypes.Processed, new { id = 1, fileName = "before.mp3", newFormat = "wav" });
        var verification = Assert.Single(await MailDrop.WaitForAsync(address, verification: true));
        Assert.Contains("https://audio.example.test/api/auth/verify?token=", verification.TextBody, StringComparison.Ordinal);
        await MailDrop.VerifyAsync(client, address);
        Assert.True((await client.GetFromJsonAsync<JsonElement>("/api/me", ApiClient.Json)).GetProperty("emailVerified").GetBoolean());

        await FeedRows.AppendAsync(factory.Services, userId, 2, TaskEventTypes.Processed, new { id = 2, fileName = "after.mp3", newFormat = "wav" });
        var mail = Assert.Single(await MailDrop.WaitForAsync(address));

        // The dispatcher reads events in order: the first was passed over while the address was unverified.
        Assert.Equal("after.mp3 is ready as WAV", mail.Subject);
        Assert.Single(MailDrop.To(address));
    }

    [Fact]
    public async Task AUsedOrMadeUpTokenIsRefusedAndAVerifiedAddressCannotAskAgain()
    {
        using var factory = new AppFactory(MailDrop.Settings());
        var (client, address) = await NewUserAsync(factory);
        var link = System.Text.RegularExpressions.Regex.Match(Assert.Single(await MailDrop.WaitForAsync(address, verification: true)).TextBody!, @"/api/auth/verify\?token=[0-9a-f]{64}").Value;

        var anonymous = factory.CreateClient();
        Assert.Equal(HttpStatusCode.BadRequest, (await anonymous.GetAsync("/api/auth/verify?token=nothex")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await anonymous.GetAsync("/api/auth/verify")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await anonymous.GetAsync("/api/auth/verify?token=" + new string('a', 64))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync(link)).StatusCode);
        var reused = await anonymous.GetAsync(link);
        Assert.Equal(HttpStatusCode.NotFound, reused.StatusCode);
        Assert.Contains("already used", (await reused.ProblemAsync()).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Conflict, (await client.PostAsync("/api/me/verification", null)).StatusCode);
    }

    [Fact]
    public async Task AUserWhoTurnsNotificationsOffGetsNone()
    {
        using var factory = new AppFactory(MailDrop.Settings());
        var (quiet, quietAddress) = await NewUserAsync(factory);
        var (loud, loudAddress) = await NewUserAsync(factory);
        await MailDrop.VerifyAsync(quiet, quietAddress);
        await MailDrop.VerifyAsync(loud, loudAddress);

        var off = await quiet.PatchAsJsonAsync("/api/me", new { notifications = false });
        Assert.Equal(HttpStatusCode.OK, off.StatusCode);
        Assert.False((await off.Content.ReadFromJsonAsync<JsonElement>(ApiClient.Json)).GetProperty("notifications").GetBoolean());
        Assert.Equal(HttpStatusCode.BadRequest, (await quiet.PatchAsJsonAsync("/api/me", new { other = 1 })).StatusCode);

        await FeedRows.AppendAsync(factory.Services, await FeedRows.UserIdAsync(quiet), 1, TaskEventTypes.Processed);
        await FeedRows.AppendAsync(factory.Services, await FeedRows.UserIdAsync(loud), 2, TaskEventTypes.Failed, new { id = 2, fileName = "x.ogg", newFormat = "mp3", error = "Not audio." });

        Assert.Equal("x.ogg could not be converted", Assert.Single(await MailDrop.WaitForAsync(loudAddress)).Subject);
        Assert.Empty(MailDrop.To(quietAddress));
    }

    [Fact]
    public async Task AVerificationEMailCommittedBeforeARestartIsSentAfterIt()
    {
        var data = ServerProcess.NewDataDirectory();
        var apiOnly = MailDrop.Settings();
        apiOnly["Role"] = "api";
        string address;
        using (var first = new AppFactory(apiOnly, data))
        {
            (_, address) = await NewUserAsync(first);

            // The API role sends nothing: the message waits in the outbox, committed with the signup.
            await using var scope = first.Services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            Assert.Equal(1, await db.Outbox.CountAsync(m => m.Payload == address && m.Status == "pending"));
        }

        Assert.Empty(MailDrop.To(address, verification: true));
        using var second = new AppFactory(MailDrop.Settings(), data);
        _ = second.Services;
        Assert.Single(await MailDrop.WaitForAsync(address, verification: true));
    }

    private static async Task<(HttpClient Client, string Address)> NewUserAsync(AppFactory factory)
    {
        var name = "v" + Guid.NewGuid().ToString("N")[..12];
        var client = await factory.CreateClient().NewUserAsync(factory.CreateClient, name);
        return (client, $"{name}@example.com");
    }
}
