using AudioConverter.Core.Tasks;
using AudioConverter.Infrastructure.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace AudioConverter.Tests.Web;

/// <summary>The page reaches every task: past the first page of 200, with the keyboard, through the API's keyset cursor.</summary>
public sealed class TaskListPagingPageTests(BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    private const int Seeded = 205;

    /// <summary>Rows straight into the database (a conversion each would take minutes): processed tasks named old-0000.mp3 upwards, oldest first.</summary>
    private async Task SeedAsync(string username)
    {
        await using var scope = browser.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var userId = await db.Users.Where(u => u.Username == username).Select(u => u.Id).SingleAsync();
        var now = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        for (var i = 0; i < Seeded; i++)
        {
            db.Tasks.Add(new ConversionTask
            {
                UserId = userId,
                FileName = $"old-{i:0000}.mp3",
                OriginalFormat = "mp3",
                NewFormat = "wav",
                Status = ConversionStatus.Processed,
                CreatedAt = now.AddMinutes(i - Seeded),
                UpdatedAt = now.AddMinutes(i - Seeded),
                ProcessedAt = now.AddMinutes(i - Seeded),
                InputBytes = 1000,
                OutputBytes = 2000,
                InputKey = $"originals/seed-{Guid.NewGuid():N}.mp3",
            });
        }

        await db.SaveChangesAsync();
    }

    [Fact]
    public async Task ATaskBeyondTheFirstPageIsReachableWithTheKeyboard()
    {
        await using var session = await browser.NewSessionAsync();
        var page = session.Page;
        var name = BrowserSession.NewUsername();
        await session.OpenAsync();
        await session.SignUpAsync(name);
        await session.ExpectSignedInAsync(name);
        await SeedAsync(name);
        await page.ReloadAsync();
        await session.ExpectSignedInAsync(name);

        await Expect(page.Locator("#task-list > li")).ToHaveCountAsync(200);
        await Expect(session.TaskRow("old-0204.mp3")).ToBeVisibleAsync();
        await Expect(session.TaskRow("old-0004.mp3")).ToHaveCountAsync(0);
        await Expect(page.Locator("#tasks-count")).ToHaveTextAsync("200 conversions shown; older ones below");

        var more = page.GetByRole(AriaRole.Button, new() { Name = "Show older conversions" });
        await more.FocusAsync();
        await page.Keyboard.PressAsync("Enter");

        await Expect(page.Locator("#task-list > li")).ToHaveCountAsync(Seeded);
        await Expect(session.TaskRow("old-0000.mp3")).ToBeVisibleAsync();
        await Expect(page.Locator("#task-list > li").Last).ToContainTextAsync("old-0000.mp3");
        await Expect(more).ToBeHiddenAsync();
        await Expect(page.Locator("#tasks-count")).ToHaveTextAsync($"{Seeded} conversions");

        // The button left with the end of the list: focus is on the first row it brought, not lost.
        await Expect(session.TaskRow("old-0004.mp3").Locator("[data-action=original]")).ToBeFocusedAsync();

        // A poll of the first page keeps the older rows it does not hold.
        await page.EvaluateAsync("() => document.dispatchEvent(new Event('visibilitychange'))");
        await Expect(page.Locator("#task-list > li")).ToHaveCountAsync(Seeded);
        session.AssertNoScriptErrors();
    }
}
