using AudioConverter.Server.Hosting;

var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = StartupPaths.ContentRoot(args) });
try
{
    var hosting = builder.AddAudioConverter();
    var app = builder.Build();

    // Settings are checked before anything starts, so a wrong one is reported once, here, not in the host's own log.
    app.Services.GetService<Microsoft.Extensions.Options.IStartupValidator>()?.Validate();
    ListenAddresses.EnsureFree(app.Configuration);
    await app.InitializeDatabaseAsync(hosting);
    app.UseAudioConverter(hosting);
    await app.RunAsync();
    return 0;
}
catch (Exception e) when (StartupErrors.Describe(e) is { } message)
{
    // A wrong setting, an unreachable backend or a taken port gets one line that names it, not a stack trace.
    await Console.Error.WriteLineAsync($"AudioConverter cannot start: {message}");
    return 2;
}

/// <summary>The entry point, visible to the tests' WebApplicationFactory.</summary>
public partial class Program;
