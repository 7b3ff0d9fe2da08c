using AudioConverter.Infrastructure;
using AudioConverter.Server.Hosting;
using Microsoft.Extensions.Options;

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
catch (Exception e) when (e is OptionsValidationException or BackendUnreachableException)
{
    // A setting is wrong or a backend is away: one line that names the setting, not a stack trace.
    await Console.Error.WriteLineAsync($"AudioConverter cannot start: {BackendStartup.Describe(e)}");
    return 1;
}

/// <summary>The entry point, visible to the tests' WebApplicationFactory.</summary>
public partial class Program;
