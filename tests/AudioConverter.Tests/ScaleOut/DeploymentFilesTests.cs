using System.Reflection;
using System.Text.RegularExpressions;
using AudioConverter.Infrastructure.Data;
using AudioConverter.Infrastructure.Media;
using AudioConverter.Infrastructure.Queue;
using AudioConverter.Infrastructure.Storage;
using AudioConverter.Server.Auth;
using AudioConverter.Server.Hosting;
using AudioConverter.Server.Tasks;
using AudioConverter.Server.Worker;

namespace AudioConverter.Tests.ScaleOut;

/// <summary>
/// Docker is not available to the tests, so the deployment files are checked as text: every setting they pass
/// (environment variables such as Database__Provider) must be one the program reads, so a typo cannot silently
/// fall back to an embedded default in production.
/// </summary>
public sealed partial class DeploymentFilesTests
{
    // Every options class of the program: the classes with a public Section constant, so a new one is covered by itself.
    private static readonly Type[] OptionTypes = new[] { typeof(DatabaseOptions).Assembly, typeof(AuthOptions).Assembly }
        .SelectMany(assembly => assembly.GetTypes())
        .Where(type => type.GetField("Section", BindingFlags.Public | BindingFlags.Static) is { IsLiteral: true })
        .ToArray();

    // Read outside option classes: the rate limit by the host, Urls by ASP.NET Core.
    private static readonly string[] OtherKeys = ["RateLimits__AuthPermitsPerMinute", "Urls"];

    public static TheoryData<string> Files => new()
    {
        "Dockerfile", "compose.yaml", "app.api.yaml", "app.worker.yaml",
        "kubernetes/configmap.yaml", "kubernetes/secret.yaml", "kubernetes/api.yaml", "kubernetes/worker.yaml", "kubernetes/keda-rabbitmq.yaml",
    };

    [Theory]
    [MemberData(nameof(Files))]
    public void EverySettingADeploymentFileSetsIsOneTheProgramReads(string file)
    {
        var text = File.ReadAllText(Path.Combine(DeployFolder, file));
        var keys = SettingKey().Matches(text).Select(m => m.Value).Distinct().ToList();
        Assert.NotEmpty(keys);
        var known = KnownKeys();
        var unknown = keys.Where(k => !known.Contains(k)).ToList();
        Assert.True(unknown.Count == 0, $"{file} sets {string.Join(", ", unknown)}, which the program does not read. Known: {string.Join(", ", known.Order())}");
    }

    [Theory]
    [InlineData("compose.yaml", "Postgres", "S3", "RabbitMq")]
    [InlineData("app.api.yaml", "Postgres", "S3", "PubSub")]
    [InlineData("app.worker.yaml", "Postgres", "S3", "PubSub")]
    public void DistributedDeploymentsChooseTheDistributedProviders(string file, string database, string storage, string queue)
    {
        var text = File.ReadAllText(Path.Combine(DeployFolder, file));
        Assert.Matches($@"Database__Provider:\s*{database}\b", text);
        Assert.Matches($@"Storage__Provider:\s*{storage}\b", text);
        Assert.Matches($@"Queue__Provider:\s*{queue}\b", text);
        Assert.Matches(@"\bRole:\s*(api|worker)\b", text);
    }

    [Fact]
    public void TheImageRunsAsAnUnprivilegedUserWithFfmpeg()
    {
        var dockerfile = File.ReadAllLines(Path.Combine(DeployFolder, "Dockerfile"));
        Assert.True(dockerfile.Count(l => l.StartsWith("FROM ", StringComparison.Ordinal)) >= 2, "the Dockerfile should build in one stage and run in another");
        Assert.Contains(dockerfile, l => l.Contains("install", StringComparison.Ordinal) && l.Contains("ffmpeg", StringComparison.Ordinal));
        var user = dockerfile.Last(l => l.StartsWith("USER ", StringComparison.Ordinal));
        Assert.DoesNotContain("root", user, StringComparison.Ordinal);
    }

    /// <summary>Section__Property for every settable property of every option class, plus the root settings.</summary>
    private static HashSet<string> KnownKeys()
    {
        var keys = new HashSet<string>(OtherKeys, StringComparer.OrdinalIgnoreCase);
        foreach (var type in OptionTypes)
        {
            var section = (string)type.GetField("Section", BindingFlags.Public | BindingFlags.Static)!.GetValue(null)!;
            foreach (var property in type.GetProperties().Where(p => p.CanWrite))
            {
                keys.Add($"{section.Replace(":", "__", StringComparison.Ordinal)}__{property.Name}");
            }
        }

        foreach (var property in typeof(HostingOptions).GetProperties().Where(p => p.CanWrite))
        {
            keys.Add(property.Name);
        }

        return keys;
    }

    private static string DeployFolder
    {
        get
        {
            var directory = new DirectoryInfo(AppContext.BaseDirectory);
            while (directory is not null && !Directory.Exists(Path.Combine(directory.FullName, "deploy")))
            {
                directory = directory.Parent;
            }

            return directory is null ? throw new InvalidOperationException("No deploy folder above the test assembly.") : Path.Combine(directory.FullName, "deploy");
        }
    }

    // A configuration key as an environment variable (Section__Property), or one of the root keys the files set (Role, Urls).
    [GeneratedRegex(@"\b(?:[A-Z][A-Za-z0-9]*(?:__[A-Z][A-Za-z0-9]*)+|Role(?=\s*[:=])|Urls(?=\s*[:=]))")]
    private static partial Regex SettingKey();
}
