using System.Text.Json;
using AudioConverter.Core.Media;
using AudioConverter.Server.Tasks;

namespace AudioConverter.Tests.Unit;

/// <summary>The readers of a task's stored JSON columns give what the full readers give, without the peaks.</summary>
[Trait("Layer", "Unit")]
public sealed class StoredTaskColumnsTests
{
    private static readonly ConversionResult Sample = new(
        true,
        ["Mixed down to 2 channels.", "quotes: ,\"peaks\":[0.5] {\"peaks\":1}"],
        new MediaFacts("flac", "flac", 96000, 6, null, 12.5),
        new OutputFacts("mp3", "mp3", 48000, 2, 320, 12.5, 500_000, new string('f', 64), null),
        [0.1, 0.25, 1]);

    [Fact]
    public void ThePeaksAreTheLastPropertySoTheListingsCutKeepsEverythingElse()
    {
        // The listing's query cuts the stored text at the peaks key (TaskListQuery.PeaksKey); were another property
        // written after the peaks, the cut would lose it. This pins the order the record writes.
        using var document = JsonDocument.Parse(Sample.ToJson());
        Assert.Equal(["encoded", "notes", "input", "output", "peaks"], document.RootElement.EnumerateObject().Select(p => p.Name));

        var cut = TaskListQuery.WithoutPeaks(Sample.ToJson())!;
        using var kept = JsonDocument.Parse(cut);
        Assert.Equal(["encoded", "notes", "input", "output"], kept.RootElement.EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public void TheSummaryEqualsTheFullResultWithOrWithoutTheCut()
    {
        foreach (var json in new[] { Sample.ToJson(), TaskListQuery.WithoutPeaks(Sample.ToJson()) })
        {
            var summary = StoredTaskColumns.Result(json)!;
            Assert.True(summary.Encoded);
            Assert.Equal(Sample.Notes, summary.Notes);
            Assert.Equal(Sample.Input, summary.Input);
            Assert.Equal(Sample.Output, summary.Output);
        }
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("  ")]
    public void NoStoredResultIsNoSummary(string? json)
    {
        Assert.Null(StoredTaskColumns.Result(json));
        Assert.Equal(json, TaskListQuery.WithoutPeaks(json));
    }

    [Fact]
    public void AResultWithoutPeaksIsLeftAsItIs()
    {
        const string json = "{\"encoded\":false,\"notes\":[],\"input\":null,\"output\":null}";
        Assert.Equal(json, TaskListQuery.WithoutPeaks(json));
    }
}
