using AudioConverter.Server.Hosting;

var builder = WebApplication.CreateBuilder(args);
try
{
    var hosting = builder.AddAudioConverter();
    var app = builder.Build();
    await app.InitializeDatabaseAsync(hosting);
    app.UseAudioConverter(hosting);
    await app.RunAsync();
    return 0;
}
catch (Exception e) when (StartupErrors.Describe(e) is { } message)
{
    // A wrong setting gets one line that names it, not a stack trace.
    await Console.Error.WriteLineAsync($"AudioConverter cannot start: {message}");
    return 2;
}

/// <summary>The entry point, visible to the tests' WebApplicationFactory.</summary>
public partial class Program;
