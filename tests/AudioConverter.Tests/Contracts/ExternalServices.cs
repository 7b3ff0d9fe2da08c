using AudioConverter.Infrastructure.Queue;
using AudioConverter.Infrastructure.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace AudioConverter.Tests.Contracts;

/// <summary>
/// Where the real servers started by scripts/services.sh listen. A missing variable fails the test with a message
/// that says how to start them: a test of a real adapter never passes without its server.
/// </summary>
public static class ExternalServices
{
    public static string Postgres => Require("AC_TEST_POSTGRES", "PostgreSQL");
    public static string RabbitMq => Require("AC_TEST_RABBITMQ", "RabbitMQ");
    public static string PubSubEmulator => Require("AC_TEST_PUBSUB_EMULATOR", "the Pub/Sub emulator");
    public static string S3Endpoint => Require("AC_TEST_S3_ENDPOINT", "s3rver");

    public static string Require(string variable, string service) =>
        Environment.GetEnvironmentVariable(variable) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException($"{variable} is not set, so {service} cannot be reached. Run ./test.sh, or 'scripts/services.sh start && set -a && . .services/env' before dotnet test.");

    public static string UniqueName(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 33, 63)];

    public static S3Options S3(string bucket) => new()
    {
        ServiceUrl = S3Endpoint,
        Bucket = bucket,
        AccessKey = "S3RVER",
        SecretKey = "S3RVER",
        CreateBucket = true,
        PartSizeMegabytes = 5,
    };

    public static RabbitMqOptions Rabbit(string queueName) => new() { Uri = RabbitMq, QueueName = queueName, DeliveryLimit = 3 };

    public static PubSubOptions PubSub(string name) => new()
    {
        ProjectId = "audioconverter-tests",
        Topic = name + "-topic",
        Subscription = name + "-sub",
        EmulatorHost = PubSubEmulator,
        CreateResources = true,
        AckDeadlineSeconds = 10,
    };

    public static PubSubTaskQueue PubSubQueue(PubSubOptions options) =>
        new(new HttpClient(), options, NullLogger<PubSubTaskQueue>.Instance);

    /// <summary>Creates an empty PostgreSQL database and returns its connection string.</summary>
    public static async Task<string> CreatePostgresDatabaseAsync(string name)
    {
        await using var connection = new NpgsqlConnection(Postgres);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
        await command.ExecuteNonQueryAsync();
        return new NpgsqlConnectionStringBuilder(Postgres) { Database = name }.ConnectionString;
    }

    public static async Task DropPostgresDatabaseAsync(string name)
    {
        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(Postgres);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", connection);
        await command.ExecuteNonQueryAsync();
    }
}
