using AudioConverter.Core.Media;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace AudioConverter.Infrastructure.Media;

/// <summary>The converter adapter registers itself here: ffmpeg and ffprobe under prlimit.</summary>
public static class MediaRegistration
{
    public static IServiceCollection AddMediaConverter(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSettings<MediaOptions>(configuration, MediaOptions.Section);
        return services.AddSingleton<IMediaConverter, FfmpegMediaConverter>();
    }
}
