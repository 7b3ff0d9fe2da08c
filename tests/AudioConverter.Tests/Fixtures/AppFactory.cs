using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace AudioConverter.Tests.Fixtures;

/// <summary>The real host in memory, with its own data folder so tests never share state by accident.</summary>
public sealed class AppFactory : WebApplicationFactory<Program>
{
    private readonly Dictionary<string, string?> settings;

    public AppFactory(IDictionary<string, string?>? overrides = null, string? dataDirectory = null)
    {
        DataDirectory = dataDirectory ?? Path.Combine(Path.GetTempPath(), "ac-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(DataDirectory);
        settings = new Dictionary<string, string?>
        {
            ["Database:ConnectionString"] = $"Data Source={Path.Combine(DataDirectory, "app.db")}",
            ["Storage:LocalPath"] = Path.Combine(DataDirectory, "blobs"),
            ["Auth:SigningKeyPath"] = Path.Combine(DataDirectory, "jwt.key"),
            ["Worker:TempPath"] = Path.Combine(DataDirectory, "tmp"),
            ["Worker:SweepIntervalSeconds"] = "1",
            ["RateLimits:AuthPermitsPerMinute"] = "100000",
            ["RateLimits:LoginsPerMinute"] = "100000",

            // Conversions at normal priority: under the idle policy (the default with API and worker in one process)
            // they would run only when the whole test run leaves a core idle. ConversionPriorityTests turns it on.
            ["Media:IdlePriority"] = "false",

            // Warnings and errors only: a test run's output stays readable.
            ["Logging:LogLevel:Default"] = "Warning",
        };
        if (overrides is not null)
        {
            foreach (var (key, value) in overrides)
            {
                settings[key] = value;
            }
        }
    }

    public string DataDirectory { get; }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        foreach (var (key, value) in settings)
        {
            builder.UseSetting(key, value);
        }

        builder.UseEnvironment("Testing");
    }
}
