using System.Collections.Concurrent;
using System.Globalization;

namespace AudioConverter.Tests.Conversion;

/// <summary>
/// Inputs at 8, 22.05, 44.1, 48 and 96 kHz in mono, stereo and 5.1 into every target: each output is verified by the
/// converter and measured again here (codec, the nearest rate the encoder takes, the channels it holds, the length).
/// </summary>
public sealed class RateLayoutMatrixTests : IDisposable
{
    private static readonly int[] Rates = [8000, 22050, 44100, 48000, 96000];
    private static readonly (string Layout, int Channels)[] Layouts = [("mono", 1), ("stereo", 2), ("5.1", 6)];
    private readonly ConversionRig rig = new();

    public void Dispose() => rig.Dispose();

    [Fact]
    public async Task EveryInputConvertsToEveryTargetWithinItsLimits()
    {
        var inputs = new List<(string Path, int Rate, int Channels)>();
        foreach (var rate in Rates)
        {
            foreach (var (layout, channels) in Layouts)
            {
                inputs.Add((rig.Noise($"in-{rate}-{channels}.wav", 1, rate, layout), rate, channels));
            }
        }

        var cases = inputs.SelectMany(i => AudioFormat.All.Select(f => (Input: i, Format: f))).ToList();
        var failures = new ConcurrentBag<string>();
        await Parallel.ForEachAsync(cases, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (c, _) =>
        {
            var name = $"{c.Input.Rate} Hz {c.Input.Channels} ch → {c.Format.Name}";
            var output = rig.Out($"out-{c.Input.Rate}-{c.Input.Channels}.{c.Format.Extension}");
            try
            {
                var result = await ConversionRig.ConvertAsync(c.Input.Path, output, c.Format.Name);
                var expectedRate = c.Format.Name == "opus" ? 48000 : c.Format.NearestSampleRate(c.Input.Rate);
                var expectedChannels = Math.Min(c.Input.Channels, c.Format.Capabilities.MaxChannels);
                var codec = ConversionRig.Audio(ConversionRig.Probe(output)).GetProperty("codec_name").GetString();
                var seconds = ConversionRig.DecodedSeconds(output);
                if (codec != c.Format.Codec || ConversionRig.SampleRate(output) != expectedRate || ConversionRig.Channels(output) != expectedChannels || Math.Abs(seconds - 1) > Tolerance(c.Format, expectedRate))
                {
                    failures.Add($"{name}: {codec}, {ConversionRig.SampleRate(output)} Hz, {ConversionRig.Channels(output)} ch, {seconds.ToString(CultureInfo.InvariantCulture)} s");
                }

                var changed = expectedRate != c.Input.Rate && c.Format.Name != "opus" || expectedChannels != c.Input.Channels;
                if (changed && result.Notes.Count == 0)
                {
                    failures.Add($"{name}: the output was changed to fit the target but no note says so");
                }
            }
            catch (Exception e) when (e is MediaException or InvalidOperationException)
            {
                failures.Add($"{name}: {e.Message}");
            }
        });

        Assert.True(failures.IsEmpty, string.Join("\n", failures.Order()));
    }

    /// <summary>ADTS has no edit list: the encoder's priming and last-frame padding (up to two 1024-sample frames) stay in the decoded length.</summary>
    private static double Tolerance(AudioFormat format, int rate) => format.Name == "aac" ? 0.02 + 2048.0 / rate : 0.1;
}
