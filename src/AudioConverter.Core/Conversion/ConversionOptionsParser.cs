using System.Globalization;
using System.Text;

namespace AudioConverter.Core.Conversion;

/// <summary>The outcome of reading options: resolved options, or errors by option name.</summary>
public sealed record OptionsResult(ConversionOptions? Options, IReadOnlyDictionary<string, string[]> Errors)
{
    public bool IsValid => Options is not null;
}

/// <summary>
/// Reads options given as raw name/value pairs (multipart text fields, or JSON values as text) for a target format,
/// checks each against the target and resolves the target's defaults. Every refusal names the option, the value and
/// what is allowed; an unknown option, one given twice or an empty one is refused, never ignored.
/// </summary>
public static class ConversionOptionsParser
{
    public const double MaxSeconds = 86_400;
    public const double MaxFadeSeconds = 600;
    public const double MinLoudness = -70;
    public const double MaxLoudness = -5;
    public const double MinTruePeak = -9;
    public const double MaxTruePeak = 0;

    /// <summary>The longest tag, in UTF-8 bytes, after control characters are removed.</summary>
    public const int MaxTagBytes = 10 * 1024;

    public static readonly IReadOnlyList<string> TagNames = ["title", "artist", "album", "date", "genre", "track", "comment"];

    /// <summary>Every option name, in api.md's order.</summary>
    public static readonly IReadOnlyList<string> Names =
        ["bitrate", "quality", "sampleRate", "channels", "start", "end", "fadeIn", "fadeOut", "loudness", "truePeak", "metadata", .. TagNames, "analyze"];

    /// <summary>The option names this format takes.</summary>
    public static IReadOnlyList<string> NamesFor(AudioFormat format) => Names.Where(n => Applies(n, format)).ToList();

    private static bool Applies(string name, AudioFormat format) => name switch
    {
        "bitrate" => format.Capabilities.Bitrate is not null,
        "quality" => format.Capabilities.Quality is not null,
        _ when TagNames.Contains(name) => format.Capabilities.Tags,
        _ => true,
    };

    /// <summary>
    /// Reads <paramref name="fields"/> for <paramref name="target"/>. A null value resets that option to its default.
    /// Options not given are taken from <paramref name="basis"/> (a task's stored options on PUT, or a preset's), except
    /// bitrate and quality, which only carry over when <paramref name="basisFormat"/> is the target itself.
    /// </summary>
    public static OptionsResult Parse(IEnumerable<KeyValuePair<string, string?>> fields, AudioFormat target, ConversionOptions? basis = null, string? basisFormat = null)
    {
        var errors = new Dictionary<string, string[]>();
        var given = Given(fields, target, errors);

        var options = basis ?? ConversionOptions.None;
        var sameFormat = basis is not null && string.Equals(basisFormat, target.Name, StringComparison.OrdinalIgnoreCase);
        if (!sameFormat)
        {
            options = options with { Bitrate = null, Quality = null };
        }

        if (given.ContainsKey("bitrate") || given.ContainsKey("quality"))
        {
            // Bitrate and quality are two ways to say one thing: giving one replaces the other.
            options = options with { Bitrate = null, Quality = null };
        }

        foreach (var (name, value) in given)
        {
            if (errors.ContainsKey(name))
            {
                continue;
            }

            var (updated, error) = Apply(options, name, value, target);
            if (error is not null)
            {
                errors[name] = [error];
            }
            else
            {
                options = updated;
            }
        }

        if (errors.Count == 0)
        {
            CheckTogether(options, target, given, errors);
        }

        if (errors.Count > 0)
        {
            return new OptionsResult(null, errors);
        }

        // The target's default recipe when neither bitrate nor quality is asked for.
        if (options.Bitrate is null && options.Quality is null)
        {
            options = target.Capabilities.Quality is { } scale && target.Capabilities.DefaultBitrate is null
                ? options with { Quality = scale.Default }
                : options with { Bitrate = target.Capabilities.DefaultBitrate };
        }

        return new OptionsResult(options, errors);
    }

    /// <summary>The fields by their option's name; unknown, repeated, inapplicable and empty ones are added to <paramref name="errors"/>.</summary>
    private static Dictionary<string, string?> Given(IEnumerable<KeyValuePair<string, string?>> fields, AudioFormat target, Dictionary<string, string[]> errors)
    {
        var given = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var (rawName, value) in fields)
        {
            var name = Names.FirstOrDefault(n => n.Equals(rawName, StringComparison.OrdinalIgnoreCase));
            if (name is null)
            {
                errors[rawName] = [$"'{Shorten(rawName)}' is not an option; {target.Name}'s options are {string.Join(", ", NamesFor(target))}."];
            }
            else if (given.ContainsKey(name))
            {
                errors[name] = [$"{name} is given twice; give it once."];
            }
            else if (!Applies(name, target))
            {
                given[name] = value;
                errors[name] = [NotAnOptionOf(name, target)];
            }
            else
            {
                given[name] = value;
                if (value is not null && value.Trim().Length == 0)
                {
                    errors[name] = [$"{name} is empty; {Allowed(name, target)}, or leave it out."];
                }
            }
        }

        return given;
    }

    /// <summary>Checks options carried over from a basis, and those that depend on each other.</summary>
    private static void CheckTogether(ConversionOptions options, AudioFormat target, Dictionary<string, string?> given, Dictionary<string, string[]> errors)
    {
        if (options.Bitrate is not null && options.Quality is not null)
        {
            errors["quality"] = ["bitrate and quality are both given; give one: bitrate for a constant bitrate, quality for a variable one."];
        }

        // Values carried over from a basis for another format are checked against this one.
        if (options.SampleRate is { } rate && !given.ContainsKey("sampleRate") && CheckSampleRate(rate, target) is { } rateError)
        {
            errors["sampleRate"] = [rateError + " (kept from before; give sampleRate to change it)"];
        }

        if (options.Channels is { } channels && !given.ContainsKey("channels") && channels > target.Capabilities.MaxChannels)
        {
            errors["channels"] = [$"channels {channels} is above {target.Name}'s maximum of {target.Capabilities.MaxChannels} (kept from before; give channels to change it)."];
        }

        if (!target.Capabilities.Tags && !options.StripMetadata && options.Tags.Count > 0)
        {
            errors[options.Tags[0].Key] = [NotAnOptionOf(options.Tags[0].Key, target) + " (kept from before; give it as null to remove it)"];
        }

        if (options is { Start: { } start, End: { } end } && start >= end)
        {
            errors["end"] = [$"end {Number(end)} is not after start {Number(start)}; end must be greater than start."];
        }

        var length = (options.End ?? double.PositiveInfinity) - (options.Start ?? 0);
        if ((options.FadeIn ?? 0) + (options.FadeOut ?? 0) > length)
        {
            errors["fadeIn"] = [$"fadeIn and fadeOut together ({Number((options.FadeIn ?? 0) + (options.FadeOut ?? 0))} s) are longer than the trimmed audio ({Number(length)} s)."];
        }
    }

    private static (ConversionOptions Options, string? Error) Apply(ConversionOptions o, string name, string? value, AudioFormat target) => name switch
    {
        "bitrate" => ApplyBitrate(o, value, target),
        "quality" => ApplyQuality(o, value, target),
        "sampleRate" => ApplySampleRate(o, value, target),
        "channels" => ApplyChannels(o, value, target),
        "start" or "end" or "fadeIn" or "fadeOut" or "loudness" or "truePeak" => ApplyDecimal(o, name, value, target),
        "metadata" => ApplyMetadata(o, value),
        "analyze" => ApplyAnalyze(o, value),
        _ => ApplyTag(o, name, value),
    };

    private static (ConversionOptions Options, string? Error) ApplyBitrate(ConversionOptions o, string? value, AudioFormat target)
    {
        var caps = target.Capabilities;
        if (value is null)
        {
            return (o with { Bitrate = null }, null);
        }

        if (!TryInteger(value, out var kbps))
        {
            return (o, $"bitrate '{Shorten(value)}' is not a whole number of kbps; {Allowed("bitrate", target)}.");
        }

        return kbps > caps.Bitrate!.Max ? (o, $"bitrate {kbps} is above {target.Name}'s maximum of {caps.Bitrate.Max} kbps.")
            : kbps < caps.Bitrate.Min ? (o, $"bitrate {kbps} is below {target.Name}'s minimum of {caps.Bitrate.Min} kbps.")
            : (o with { Bitrate = kbps }, null);
    }

    private static (ConversionOptions Options, string? Error) ApplyQuality(ConversionOptions o, string? value, AudioFormat target)
    {
        var caps = target.Capabilities;
        if (value is null)
        {
            return (o with { Quality = null }, null);
        }

        if (!TryDecimal(value, out var quality))
        {
            return (o, $"quality '{Shorten(value)}' is not a number; {Allowed("quality", target)}.");
        }

        return quality < caps.Quality!.Min || quality > caps.Quality.Max
            ? (o, $"quality {Number(quality)} is outside {target.Name}'s scale of {Number(caps.Quality.Min)} to {Number(caps.Quality.Max)} ({Number(caps.Quality.Best)} is best).")
            : (o with { Quality = quality }, null);
    }

    private static (ConversionOptions Options, string? Error) ApplySampleRate(ConversionOptions o, string? value, AudioFormat target)
    {
        if (value is null)
        {
            return (o with { SampleRate = null }, null);
        }

        if (!TryInteger(value, out var rate))
        {
            return (o, $"sampleRate '{Shorten(value)}' is not a whole number of Hz; {Allowed("sampleRate", target)}.");
        }

        return CheckSampleRate(rate, target) is { } rateError ? (o, rateError) : (o with { SampleRate = rate }, null);
    }

    private static (ConversionOptions Options, string? Error) ApplyChannels(ConversionOptions o, string? value, AudioFormat target)
    {
        var caps = target.Capabilities;
        if (value is null)
        {
            return (o with { Channels = null }, null);
        }

        if (!TryInteger(value, out var channels))
        {
            return (o, $"channels '{Shorten(value)}' is not a whole number; {Allowed("channels", target)}.");
        }

        return channels > caps.MaxChannels ? (o, $"channels {channels} is above {target.Name}'s maximum of {caps.MaxChannels}.")
            : channels < 1 ? (o, $"channels {channels} is below the minimum of 1 (mono).")
            : (o with { Channels = channels }, null);
    }

    private static (ConversionOptions Options, string? Error) ApplyMetadata(ConversionOptions o, string? value)
    {
        var mode = value?.Trim().ToLowerInvariant() ?? ConversionOptions.MetadataKeep;
        return mode is ConversionOptions.MetadataKeep or ConversionOptions.MetadataStrip
            ? (o with { Metadata = mode }, null)
            : (o, $"metadata '{Shorten(value!)}' is not allowed; use keep or strip.");
    }

    private static (ConversionOptions Options, string? Error) ApplyAnalyze(ConversionOptions o, string? value)
    {
        if (value is null)
        {
            return (o with { Analyze = false }, null);
        }

        return bool.TryParse(value.Trim(), out var analyze)
            ? (o with { Analyze = analyze }, null)
            : (o, $"analyze '{Shorten(value)}' is not allowed; use true or false.");
    }

    /// <summary>A tag (title, artist, ...): control characters removed, at most <see cref="MaxTagBytes"/>; null removes it.</summary>
    private static (ConversionOptions Options, string? Error) ApplyTag(ConversionOptions o, string name, string? value)
    {
        var tag = value is null ? null : SanitizeTag(value);
        if (tag is not null && Encoding.UTF8.GetByteCount(tag) > MaxTagBytes)
        {
            return (o, $"{name} is {Encoding.UTF8.GetByteCount(tag)} bytes long; the limit is {MaxTagBytes} bytes.");
        }

        return (name switch
        {
            "title" => o with { Title = tag },
            "artist" => o with { Artist = tag },
            "album" => o with { Album = tag },
            "date" => o with { Date = tag },
            "genre" => o with { Genre = tag },
            "track" => o with { Track = tag },
            _ => o with { Comment = tag },
        }, null);
    }

    private static (ConversionOptions, string?) ApplyDecimal(ConversionOptions o, string name, string? value, AudioFormat target)
    {
        double? number = null;
        if (value is not null)
        {
            if (!TryDecimal(value, out var parsed))
            {
                return (o, $"{name} '{Shorten(value)}' is not a number; {Allowed(name, target)}.");
            }

            var (min, max, unit) = Range(name);
            if (parsed < min || parsed > max)
            {
                return (o, $"{name} {Number(parsed)} is outside the allowed range of {Number(min)} to {Number(max)} {unit}.");
            }

            number = parsed;
        }

        return (name switch
        {
            "start" => o with { Start = number },
            "end" => o with { End = number },
            "fadeIn" => o with { FadeIn = number },
            "fadeOut" => o with { FadeOut = number },
            "loudness" => o with { Loudness = number },
            _ => o with { TruePeak = number ?? ConversionOptions.DefaultTruePeak },
        }, null);
    }

    private static (double Min, double Max, string Unit) Range(string name) => name switch
    {
        "start" or "end" => (0, MaxSeconds, "seconds"),
        "fadeIn" or "fadeOut" => (0, MaxFadeSeconds, "seconds"),
        "loudness" => (MinLoudness, MaxLoudness, "LUFS"),
        _ => (MinTruePeak, MaxTruePeak, "dBTP"),
    };

    private static string? CheckSampleRate(int rate, AudioFormat target)
    {
        var caps = target.Capabilities;
        if (caps.SampleRates is { } rates)
        {
            return rates.Contains(rate) ? null : $"sampleRate {rate} is not a rate {target.Name} takes; choose one of {string.Join(", ", rates)} Hz.";
        }

        return rate > caps.MaxSampleRate ? $"sampleRate {rate} is above {target.Name}'s maximum of {caps.MaxSampleRate} Hz."
            : rate < caps.MinSampleRate ? $"sampleRate {rate} is below {target.Name}'s minimum of {caps.MinSampleRate} Hz."
            : null;
    }

    /// <summary>What an option of this format allows, as a phrase ("give a whole number of kbps from 32 to 320").</summary>
    private static string Allowed(string name, AudioFormat target)
    {
        var caps = target.Capabilities;
        return name switch
        {
            "bitrate" => $"give a whole number of kbps from {caps.Bitrate!.Min} to {caps.Bitrate.Max}",
            "quality" => $"give a number from {Number(caps.Quality!.Min)} to {Number(caps.Quality.Max)} ({Number(caps.Quality.Best)} is best)",
            "sampleRate" => caps.SampleRates is { } rates ? $"give one of {string.Join(", ", rates)} Hz" : $"give a whole number of Hz from {caps.MinSampleRate} to {caps.MaxSampleRate}",
            "channels" => $"give a whole number from 1 to {caps.MaxChannels}",
            "metadata" => "give keep or strip",
            "analyze" => "give true or false",
            "start" or "end" or "fadeIn" or "fadeOut" or "loudness" or "truePeak" => $"give a number from {Number(Range(name).Min)} to {Number(Range(name).Max)} {Range(name).Unit}",
            _ => $"give text of at most {MaxTagBytes} bytes",
        };
    }

    private static string NotAnOptionOf(string name, AudioFormat target) =>
        $"{name} is not an option of {target.Name}; {target.Name}'s options are {string.Join(", ", NamesFor(target))}.";

    /// <summary>
    /// Removes control characters (C0 except tab and newline, DEL, C1) and unpaired surrogates from a tag, and trims it.
    /// Tags reach ffmpeg as one argument each, so '=', ';' and newlines in them are text, never syntax.
    /// </summary>
    public static string SanitizeTag(string value)
    {
        var text = new StringBuilder(value.Length);
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                text.Append(c).Append(value[++i]);
            }
            else if (c is '\n' or '\t' || (!char.IsControl(c) && !char.IsSurrogate(c)))
            {
                text.Append(c);
            }
        }

        return text.ToString().Trim();
    }

    private static bool TryInteger(string value, out int number) =>
        int.TryParse(value.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out number);

    private static bool TryDecimal(string value, out double number) =>
        double.TryParse(value.Trim(), NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out number) && double.IsFinite(number);

    private static string Number(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);

    private static string Shorten(string value) => value.Length > 40 ? value[..40] + "…" : value;

    /// <summary>Each option of <paramref name="format"/> described for machines, by name.</summary>
    public static IReadOnlyDictionary<string, OptionDescription> Describe(AudioFormat format)
    {
        var caps = format.Capabilities;
        var options = new Dictionary<string, OptionDescription>(StringComparer.Ordinal);
        if (caps.Bitrate is { } bitrate)
        {
            options["bitrate"] = new("integer", "Constant bitrate.", bitrate.Min, bitrate.Max, Default: caps.DefaultBitrate, Unit: "kbps");
        }

        if (caps.Quality is { } quality)
        {
            options["quality"] = new("number", "Variable bitrate on the codec's own scale.", quality.Min, quality.Max, quality.Best, Default: caps.DefaultBitrate is null ? quality.Default : null);
        }

        options["sampleRate"] = caps.SampleRates is { } rates
            ? new("integer", "Output sample rate; by default the input's, or the nearest of these.", Values: rates.Cast<object>().ToList(), Unit: "Hz")
            : new("integer", "Output sample rate; by default the input's, or the nearest in range.", caps.MinSampleRate, caps.MaxSampleRate, Unit: "Hz");
        options["channels"] = new("integer", "Output channels (1 mono, 2 stereo); by default the input's, at most the maximum.", 1, caps.MaxChannels);
        options["start"] = new("number", "Keep the audio from this time on.", 0, MaxSeconds, Unit: "s");
        options["end"] = new("number", "Keep the audio up to this time; past the input's end it trims at the end.", 0, MaxSeconds, Unit: "s");
        options["fadeIn"] = new("number", "Fade in over this long at the start of the output.", 0, MaxFadeSeconds, Unit: "s");
        options["fadeOut"] = new("number", "Fade out over this long at the end of the output.", 0, MaxFadeSeconds, Unit: "s");
        options["loudness"] = new("number", "EBU R128 normalisation to this integrated loudness (two passes).", MinLoudness, MaxLoudness, Unit: "LUFS");
        options["truePeak"] = new("number", "The true-peak ceiling for loudness.", MinTruePeak, MaxTruePeak, Default: ConversionOptions.DefaultTruePeak, Unit: "dBTP");
        options["metadata"] = new("string", caps.CoverArt ? "Carry the input's tags and cover art, or strip them." : "Carry the input's tags, or strip them.",
            Values: [ConversionOptions.MetadataKeep, ConversionOptions.MetadataStrip], Default: ConversionOptions.MetadataKeep);
        if (caps.Tags)
        {
            foreach (var tag in TagNames)
            {
                options[tag] = new("string", $"The {tag} tag to set.", MaxLength: MaxTagBytes);
            }
        }

        options["analyze"] = new("boolean", "Also measure the output's loudness.", Default: false);
        return options;
    }
}
