using System.Globalization;
using AudioConverter.Core.Tasks;

namespace AudioConverter.Core.Notifications;

/// <summary>What the owner of a finished task is told, in words a person understands.</summary>
public sealed record TaskNotification(
    long TaskId,
    long UserId,
    string FileName,
    string NewFormat,
    bool Processed,
    long? OutputBytes,
    double? DurationSeconds,
    string? Error)
{
    public static TaskNotification Success(ConversionTask task, long outputBytes, double? durationSeconds) =>
        new(task.Id, task.UserId, task.FileName, task.NewFormat, Processed: true, outputBytes, durationSeconds, Error: null);

    public static TaskNotification Failure(ConversionTask task, string error) =>
        new(task.Id, task.UserId, task.FileName, task.NewFormat, Processed: false, OutputBytes: null, DurationSeconds: null, error);

    private string Format => NewFormat.ToUpperInvariant();

    public string Subject => Processed ? $"{FileName} is ready as {Format}" : $"{FileName} could not be converted";

    /// <summary>The plain-text body; <paramref name="baseUrl"/> (the service's public address) makes the paths links.</summary>
    public string Body(string? baseUrl)
    {
        var root = (baseUrl ?? "").TrimEnd('/');
        var lines = new List<string> { "Hello,", "" };
        if (Processed)
        {
            var facts = new List<string>();
            if (OutputBytes is { } bytes)
            {
                facts.Add(Size(bytes));
            }

            if (DurationSeconds is { } seconds)
            {
                facts.Add(Length(seconds));
            }

            lines.Add($"{FileName} has been converted to {Format}{(facts.Count > 0 ? $" ({string.Join(", ", facts)})" : "")}.");
            lines.Add("");
            lines.Add($"Download it from {root}/api/tasks/{TaskId}/converted (signed in),");
            lines.Add($"or from the list of your files at {(root.Length > 0 ? root + "/" : "the service's web page")}.");
        }
        else
        {
            lines.Add($"{FileName} could not be converted to {Format}:");
            lines.Add(Error ?? "The conversion failed.");
            lines.Add("");
            lines.Add($"The task is {root}/api/tasks/{TaskId}; you can delete it, or upload the file again.");
        }

        lines.Add("");
        lines.Add("-- ");
        lines.Add("AudioConverter. You receive this because a conversion you asked for has finished.");
        return string.Join("\n", lines) + "\n";
    }

    private static string Size(long bytes) => bytes switch
    {
        >= 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024):0.0} MB"),
        >= 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:0} KB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes} bytes"),
    };

    private static string Length(double seconds)
    {
        var total = (long)Math.Round(seconds);
        return string.Create(CultureInfo.InvariantCulture, $"{total / 60} min {total % 60} s");
    }
}
