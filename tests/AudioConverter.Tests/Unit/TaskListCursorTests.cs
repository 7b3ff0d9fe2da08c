using AudioConverter.Server.Tasks;

namespace AudioConverter.Tests.Unit;

public sealed class TaskListCursorTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(255)]
    [InlineData(1L << 40)]
    [InlineData(long.MaxValue - 1)]
    public void ACursorDecodesToTheIdItWasMadeFrom(long id)
    {
        var cursor = TaskListCursor.Encode(id);
        Assert.Equal(12, cursor.Length);
        Assert.Equal(id, TaskListCursor.Decode(cursor));
    }

    [Theory]
    [InlineData("")]
    [InlineData("12")]
    [InlineData("AQAAAAAAAAA=")]
    [InlineData("AQAAAAAAAA+/")]
    [InlineData("not a cursor")]
    [InlineData("AQAAAAAAAAAA")]
    [InlineData("AAAAAAAAAAAB")]
    public void AnythingElseIsNotACursor(string text) => Assert.Null(TaskListCursor.Decode(text));
}
