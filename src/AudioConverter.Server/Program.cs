using AudioConverter.Server.Hosting;

var builder = WebApplication.CreateBuilder(args);
var hosting = builder.AddAudioConverter();

var app = builder.Build();
await app.InitializeDatabaseAsync(hosting);
app.UseAudioConverter(hosting);
await app.RunAsync();

/// <summary>The entry point, visible to the tests' WebApplicationFactory.</summary>
public partial class Program;
