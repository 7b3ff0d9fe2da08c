using AudioConverter.Infrastructure;
using AudioConverter.Infrastructure.Data;
using AudioConverter.Infrastructure.Media;
using AudioConverter.Infrastructure.Notifications;
using AudioConverter.Infrastructure.Queue;
using AudioConverter.Infrastructure.Storage;
using AudioConverter.Server.Admission;
using AudioConverter.Server.Auth;
using AudioConverter.Server.Events;
using AudioConverter.Server.Hosting;
using AudioConverter.Server.Tasks;
using AudioConverter.Server.Worker;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AudioConverter.Tests.Unit;

/// <summary>
/// Settings are bound and checked the way the host does it (the same registration methods, then the start-up
/// validator), and each failure is the one line the program prints: it names the key and what is allowed.
/// </summary>
[Trait("Layer", "Unit")]
public sealed class SettingsValidationTests : IDisposable
{
    private readonly string folder = Path.Combine(Path.GetTempPath(), "ac-tests", "settings-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(folder))
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void TheEmbeddedDefaultsAreValidWithNoSettingsAtAll()
    {
        var services = Host([]);

        services.GetRequiredService<IStartupValidator>().Validate();
        Assert.Equal(TimeSpan.FromSeconds(60), services.GetRequiredService<IOptions<WorkerOptions>>().Value.Lease);
        Assert.Equal(32, services.GetRequiredService<IOptions<UploadOptions>>().Value.MaxSections);
    }

    [Fact]
    public void ANumberOutOfRangeNamesTheKeyTheRangeAndTheValue()
    {
        var message = StartupFailure(new() { ["Worker:LeaseSeconds"] = "0" });

        Assert.Equal("Worker:LeaseSeconds must be between 2 and 3600. It is 0.", message);
    }

    [Fact]
    public void EveryWrongValueOfOneSectionIsNamedOnTheSameLine()
    {
        var message = StartupFailure(new() { ["Events:BufferSize"] = "0", ["Events:MaxStreamsPerUser"] = "5000" });

        Assert.Contains("Events:BufferSize must be between 1 and 100000", message, StringComparison.Ordinal);
        Assert.Contains("Events:MaxStreamsPerUser must be between 1 and 1000", message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', message);
    }

    [Theory]
    [InlineData("Database:Provider", "Oracle", "Database:Provider 'Oracle' is not supported; use Sqlite, Postgres or PostgreSQL.")]
    [InlineData("Storage:Provider", "Floppy", "Storage:Provider 'Floppy' is not supported; use LocalDisk or S3.")]
    [InlineData("Queue:Provider", "Carrier pigeon", "Queue:Provider 'Carrier pigeon' is not supported; use InProcess, RabbitMq or PubSub.")]
    [InlineData("Role", "janitor", "Role 'janitor' is not valid; use --role api, --role worker or --role both.")]
    public void AnUnknownChoiceIsRefusedWhileRegisteringWithTheChoicesListed(string key, string value, string expected)
    {
        var error = Assert.Throws<OptionsValidationException>(() => Host(new() { [key] = value }));

        Assert.Equal(expected, StartupErrors.Describe(error));
    }

    [Fact]
    public void AProviderIsMatchedWithoutRegardToCase()
    {
        var services = Host(new() { ["Storage:Provider"] = "localdisk", ["Queue:Provider"] = "INPROCESS" });

        services.GetRequiredService<IStartupValidator>().Validate();
        Assert.IsType<LocalDiskBlobStore>(services.GetRequiredService<Core.Storage.IBlobStore>());
    }

    [Fact]
    public void OnlyTheChosenQueuesSettingsAreChecked()
    {
        // A broken RabbitMQ section does not matter while Pub/Sub is the queue...
        var pubsub = Host(new() { ["Queue:Provider"] = "PubSub", ["Queue:PubSub:ProjectId"] = "p", ["Queue:RabbitMq:Uri"] = "http://nowhere", ["Queue:RabbitMq:DeliveryLimit"] = "0" });
        pubsub.GetRequiredService<IStartupValidator>().Validate();

        // ...and is named, without its password, when RabbitMQ is.
        var message = StartupFailure(new() { ["Queue:Provider"] = "RabbitMq", ["Queue:RabbitMq:Uri"] = "http://user:secret@nowhere/" });
        Assert.Contains("Queue:RabbitMq:Uri 'http://user:***@nowhere/' is not an amqp:// or amqps:// URI", message, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheChosenStoragesRuleAcrossTwoKeysIsChecked()
    {
        var message = StartupFailure(new() { ["Storage:Provider"] = "S3", ["Storage:S3:Bucket"] = "b", ["Storage:S3:AccessKey"] = "id" });

        Assert.Equal("Storage:S3:AccessKey and Storage:S3:SecretKey must be set together.", message);
    }

    [Fact]
    public void MailRulesApplyOnlyOnceAnSmtpHostIsSet()
    {
        Host(new() { ["Notifications:From"] = "not an address" }).GetRequiredService<IStartupValidator>().Validate();

        var message = StartupFailure(new() { ["Notifications:SmtpHost"] = "mail.example.com", ["Notifications:From"] = "not an address" });
        Assert.Equal("Notifications:From 'not an address' is not an e-mail address such as AudioConverter <noreply@example.com>.", message);
    }

    [Fact]
    public void ASecretIsNeverRepeatedInTheMessage()
    {
        var message = StartupFailure(new() { ["Auth:SigningKey"] = "hunter2-is-short" });

        Assert.StartsWith("Auth:SigningKey must be at least 32 characters long", message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("api", null, false)]
    [InlineData("worker", null, false)]
    [InlineData("api", "true", true)]
    [InlineData("worker", "true", false)]
    [InlineData("both", null, true)]
    public void SplitRolesNeedASharedQueue(string role, string? withoutWorker, bool starts)
    {
        var settings = new Dictionary<string, string?> { ["Role"] = role, ["Queue:InProcessWithoutWorker"] = withoutWorker };

        if (starts)
        {
            Host(settings);
            return;
        }

        var error = Assert.Throws<OptionsValidationException>(() => Host(settings));
        Assert.Contains("Queue:Provider", StartupErrors.Describe(error), StringComparison.Ordinal);
    }

    [Fact]
    public void AWorkersConversionTimeoutMustBeShorterThanTheBrokersConsumerTimeout()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Queue:Provider"] = "RabbitMq",
            ["Queue:RabbitMq:Uri"] = "amqp://guest:guest@127.0.0.1:5672/",
            ["Queue:RabbitMq:ConsumerTimeoutSeconds"] = "600",
            ["Media:ConversionTimeoutSeconds"] = "600",
        };

        var message = StartupFailure(settings);

        Assert.Contains("Media:ConversionTimeoutSeconds (600)", message, StringComparison.Ordinal);
        Assert.Contains("Queue:RabbitMq:ConsumerTimeoutSeconds (600)", message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheBrokersPrefetchFollowsTheWorkersConcurrencyUnlessSet()
    {
        var settings = new Dictionary<string, string?> { ["Queue:Provider"] = "RabbitMq", ["Queue:RabbitMq:Uri"] = "amqp://guest:guest@127.0.0.1:5672/", ["Worker:Concurrency"] = "3" };

        Assert.Equal(3, Host(settings).GetRequiredService<IOptions<RabbitMqOptions>>().Value.Prefetch);
        settings["Queue:RabbitMq:Prefetch"] = "7";
        Assert.Equal(7, Host(settings).GetRequiredService<IOptions<RabbitMqOptions>>().Value.Prefetch);
    }

    [Fact]
    public void DurationsAreTimeSpansReadFromTheirUnitsKeys()
    {
        var services = Host(new() { ["Worker:LeaseSeconds"] = "90", ["Worker:OutputRetentionDays"] = "1.5", ["Events:PollIntervalMilliseconds"] = "250", ["Auth:TokenLifetimeMinutes"] = "5" });

        services.GetRequiredService<IStartupValidator>().Validate();
        Assert.Equal(TimeSpan.FromSeconds(90), services.GetRequiredService<IOptions<WorkerOptions>>().Value.Lease);
        Assert.Equal(TimeSpan.FromHours(36), services.GetRequiredService<IOptions<WorkerOptions>>().Value.OutputRetention);
        Assert.Equal(TimeSpan.FromMilliseconds(250), services.GetRequiredService<IOptions<EventsOptions>>().Value.PollInterval);
        Assert.Equal(TimeSpan.FromMinutes(5), services.GetRequiredService<IOptions<AuthOptions>>().Value.TokenLifetime);
    }

    /// <summary>The settings part of Program.cs, for a process of the given role (both unless Role is set).</summary>
    private ServiceProvider Host(Dictionary<string, string?> settings)
    {
        var values = new Dictionary<string, string?>
        {
            ["Storage:LocalPath"] = Path.Combine(folder, "blobs"),
            ["Auth:SigningKeyPath"] = Path.Combine(folder, "jwt.key"),
        };
        foreach (var (key, value) in settings)
        {
            values[key] = value;
        }

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        var services = new ServiceCollection().AddLogging(logging => logging.SetMinimumLevel(LogLevel.Warning)).AddSingleton(TimeProvider.System);
        var roles = services.AddRoles(configuration);
        services.AddSettings<AuthOptions, AuthOptionsRules>(configuration, AuthOptions.Section);
        services.AddSettings<UploadOptions>(configuration, UploadOptions.Section);
        services.AddSettings<AdmissionOptions>(configuration, AdmissionOptions.Section);
        services.AddSettings<EventsOptions>(configuration, EventsOptions.Section);
        services.AddSettings<WorkerOptions>(configuration, WorkerOptions.Section);
        services.AddDatabase(configuration);
        services.AddBlobStore(configuration);
        services.AddTaskQueue(configuration, new SplitRolesNeedASharedQueue(roles));
        services.AddMediaConverter(configuration);
        services.AddMail(configuration);
        services.AddWebhooks(configuration);
        if (roles.RunsWorker)
        {
            services.AddWorkerServices(roles);
        }

        return services.BuildServiceProvider();
    }

    /// <summary>The line the program prints when the start-up check refuses these settings.</summary>
    private string StartupFailure(Dictionary<string, string?> settings)
    {
        using var services = Host(settings);
        // One section's failures come as one OptionsValidationException; several sections' as an AggregateException of them.
        var error = Record.Exception(() => services.GetRequiredService<IStartupValidator>().Validate());
        Assert.True(error is OptionsValidationException or AggregateException { InnerException: OptionsValidationException }, $"Expected a settings failure, got {error}");
        return StartupErrors.Describe(error) ?? throw new InvalidOperationException("No one-line description of " + error);
    }
}
