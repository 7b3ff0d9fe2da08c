using AudioConverter.Server.Tasks;

namespace AudioConverter.Tests.Unit;

/// <summary>The listing cache's own rules, with the database version given by the test.</summary>
[Trait("Layer", "Unit")]
public sealed class TaskListCacheTests
{
    private static readonly TaskListCache.Key Page = new(UserId: 1, Limit: 100, NewestFirst: false, Cursor: null);

    [Fact]
    public void AKeptAnswerIsFoundWhileTheVersionStaysTheSame()
    {
        using var cache = new TaskListCache(() => 7);
        var (_, generation) = cache.Find(Page);
        var stored = TaskListCache.Store(generation!, Page, [1, 2, 3], "<next>; rel=\"next\"");

        var (found, _) = cache.Find(Page);
        Assert.Same(stored, found);
        Assert.Equal([1, 2, 3], found!.Body);
        Assert.Equal("<next>; rel=\"next\"", found.Link);
    }

    [Fact]
    public void AnyNewVersionDropsEveryKeptAnswer()
    {
        long version = 1;
        using var cache = new TaskListCache(() => version);
        var other = Page with { UserId = 2 };
        TaskListCache.Store(cache.Find(Page).Generation!, Page, [1], null);
        TaskListCache.Store(cache.Find(other).Generation!, other, [2], null);

        version = 2;
        Assert.Null(cache.Find(Page).Page);
        Assert.Null(cache.Find(other).Page);
    }

    [Fact]
    public void AnAnswerBuiltBeforeANewVersionIsNotKeptForIt()
    {
        long version = 1;
        using var cache = new TaskListCache(() => version);
        var (_, before) = cache.Find(Page);

        // A commit lands while the page is read: the page, tagged with the version read before it, must not answer the new one.
        version = 2;
        Assert.Null(cache.Find(Page).Page);
        TaskListCache.Store(before!, Page, [1], null);
        Assert.Null(cache.Find(Page).Page);
    }

    [Fact]
    public void EveryPartOfTheKeyTellsAnswersApart()
    {
        using var cache = new TaskListCache(() => 1);
        TaskListCache.Store(cache.Find(Page).Generation!, Page, [1], null);

        Assert.NotNull(cache.Find(Page).Page);
        Assert.Null(cache.Find(Page with { UserId = 2 }).Page);
        Assert.Null(cache.Find(Page with { Limit = 10 }).Page);
        Assert.Null(cache.Find(Page with { NewestFirst = true }).Page);
        Assert.Null(cache.Find(Page with { Cursor = 5 }).Page);
    }

    [Fact]
    public void ItKeepsAtMostItsNumberOfAnswers()
    {
        using var cache = new TaskListCache(() => 1);
        for (var user = 1; user <= TaskListCache.MaxPages + 10; user++)
        {
            var key = Page with { UserId = user };
            TaskListCache.Store(cache.Find(key).Generation!, key, [1], null);
        }

        Assert.NotNull(cache.Find(Page with { UserId = TaskListCache.MaxPages }).Page);
        Assert.Null(cache.Find(Page with { UserId = TaskListCache.MaxPages + 1 }).Page);
        Assert.Equal(TaskListCache.MaxPages, cache.Find(Page).Generation!.Pages.Count);
    }

    [Fact]
    public void ItKeepsAtMostItsNumberOfBytes()
    {
        using var cache = new TaskListCache(() => 1);
        var body = new byte[TaskListCache.MaxPageBytes];
        var fit = (int)(TaskListCache.MaxBytes / body.Length);
        for (var user = 1; user <= fit + 3; user++)
        {
            var key = Page with { UserId = user };
            TaskListCache.Store(cache.Find(key).Generation!, key, body, null);
        }

        Assert.NotNull(cache.Find(Page with { UserId = fit }).Page);
        Assert.Null(cache.Find(Page with { UserId = fit + 1 }).Page);
    }

    [Fact]
    public void ALargeAnswerIsWrittenButNotKept()
    {
        using var cache = new TaskListCache(() => 1);
        var body = new byte[TaskListCache.MaxPageBytes + 1];
        var page = TaskListCache.Store(cache.Find(Page).Generation!, Page, body, null);

        Assert.Same(body, page.Body);
        Assert.Null(cache.Find(Page).Page);
    }
}
