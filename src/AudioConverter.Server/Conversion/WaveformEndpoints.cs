using System.Globalization;
using AudioConverter.Core.Tasks;
using AudioConverter.Infrastructure.Data;
using AudioConverter.Infrastructure.Media;
using AudioConverter.Server.Auth;
using AudioConverter.Server.Hosting;
using AudioConverter.Server.Tasks;
using Microsoft.AspNetCore.Http.HttpResults;

namespace AudioConverter.Server.Conversion;

/// <summary>GET /api/tasks/{id}/waveform?points=N: peaks of the output, taken at conversion time, for drawing.</summary>
public static class WaveformEndpoints
{
    public const int DefaultPoints = 200;
    public const int MaxPoints = 1000;

    public sealed record WaveformResponse(double DurationSeconds, IReadOnlyList<double> Peaks);

    public static IEndpointRouteBuilder MapWaveformEndpoints(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/api/tasks/{id:long}/waveform", GetAsync).WithTags("Tasks").RequireAuthorization()
            .WithSummary("Peaks (0 to 1) of the converted file, for drawing its waveform");
        return routes;
    }

    private static async Task<Results<Ok<WaveformResponse>, ValidationProblem, ProblemHttpResult>> GetAsync(
        long id, string? points, CurrentUser user, AppDbContext db, CancellationToken cancellationToken)
    {
        var count = DefaultPoints;
        if (points is not null && (!int.TryParse(points, NumberStyles.None, CultureInfo.InvariantCulture, out count) || count < 1 || count > MaxPoints))
        {
            return Problems.Validation("points", $"'points' must be a whole number from 1 to {MaxPoints}; got '{points}'.");
        }

        var task = await db.FindOwnedTaskAsync(user, id, cancellationToken);
        if (task is null)
        {
            return Problems.NotFound();
        }

        if (task.Status != ConversionStatus.Processed || ConversionResult.FromJson(task.Result) is not { } result)
        {
            return Problems.Conflict("The task has no converted file yet; its waveform is there once it is processed.");
        }

        return TypedResults.Ok(new WaveformResponse(result.Output.DurationSeconds, FfmpegOutputParser.Downsample(result.Peaks, count)));
    }
}
