using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Serialization;
using AudioConverter.Core.Queue;
using Google.Apis.Auth.OAuth2;
using Microsoft.Extensions.Logging;

namespace AudioConverter.Infrastructure.Queue;

/// <summary>
/// Tasks on a Google Cloud Pub/Sub topic, read from one shared subscription through the REST API
/// (the .NET client library is not available; REST is also what the emulator serves). Each receive pulls one
/// message; a running conversion extends its ack deadline; a pull that fails is retried with backoff, so a worker
/// rides out the service or the emulator going away for a while.
/// </summary>
public sealed partial class PubSubTaskQueue : ITaskQueue, IDeadLetterQueue, IBackendSetup, IDisposable
{
    private const string Scope = "https://www.googleapis.com/auth/pubsub";
    private readonly HttpClient http;
    private readonly PubSubOptions options;
    private readonly ILogger<PubSubTaskQueue> logger;
    private readonly SemaphoreSlim credentialGate = new(1, 1);
    private readonly bool emulator;
    private ITokenAccess? credential;
    private bool wantsToConsume;

    public PubSubTaskQueue(HttpClient http, PubSubOptions options, ILogger<PubSubTaskQueue> logger)
    {
        this.http = http;
        this.options = options;
        this.logger = logger;
        var emulatorHost = options.EffectiveEmulatorHost;
        emulator = emulatorHost is not null;
        http.BaseAddress = new Uri(emulator ? $"http://{emulatorHost}/" : options.Endpoint);

        // A pull may be held open by the server until a message arrives; per-call deadlines are set below.
        http.Timeout = Timeout.InfiniteTimeSpan;
    }

    public string SettingName => emulator ? "Queue:PubSub:EmulatorHost (or PUBSUB_EMULATOR_HOST)" : "Queue:PubSub:ProjectId and the Application Default Credentials";

    private string TopicPath => $"v1/projects/{options.ProjectId}/topics/{options.Topic}";

    private string SubscriptionPath => $"v1/projects/{options.ProjectId}/subscriptions/{options.Subscription}";

    private string DeadLetterTopicPath => $"v1/projects/{options.ProjectId}/topics/{options.DeadLetterTopic}";

    private string DeadLetterSubscriptionPath => $"v1/projects/{options.ProjectId}/subscriptions/{options.EffectiveDeadLetterSubscription}";

    public async Task PublishAsync(long taskId, CancellationToken cancellationToken)
    {
        var request = new PublishRequest([new PubsubMessage(Convert.ToBase64String(TaskMessage.For(taskId).ToBytes()))]);
        try
        {
            using var response = await SendAsync(HttpMethod.Post, $"{TopicPath}:publish", request, TimeSpan.FromSeconds(10), cancellationToken);
            await EnsureSuccessAsync(response, "publish to", TopicPath, cancellationToken);
        }
        catch (PubSubUnavailableException e)
        {
            // Callers see only the port's exception; the service's answer stays inside for the log.
            throw new BackendUnreachableException($"{SettingName}: {e.Message}", e);
        }
    }

    public async Task<IQueueDelivery> ReceiveAsync(CancellationToken cancellationToken)
    {
        wantsToConsume = true;
        var delay = TimeSpan.FromMilliseconds(250);
        while (true)
        {
            try
            {
                // returnImmediately=false lets the server hold the pull until a message arrives (or its own timeout).
                var messages = await PullAsync(SubscriptionPath, 1, false, cancellationToken);
                delay = TimeSpan.FromMilliseconds(250);
                if (messages.Length > 0)
                {
                    var message = messages[0];
                    var body = ReadMessage(message.Message);
                    if (body is not null)
                    {
                        return new Delivery(this, message.AckId, body.TaskId, message.DeliveryAttempt ?? 1) { TraceParent = body.TraceParent };
                    }

                    LogMalformed(logger);
                    await AcknowledgeAsync(SubscriptionPath, message.AckId, cancellationToken);
                    continue;
                }

                // An empty answer: the server's long poll ended. Pause briefly so an emulator that answers at once is not hammered.
                await Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken);
            }
            catch (TimeoutException) when (!cancellationToken.IsCancellationRequested)
            {
                // The long poll outlived its deadline without a message: pull again.
            }
            catch (Exception e) when (e is HttpRequestException or IOException or PubSubUnavailableException or System.Text.Json.JsonException && !cancellationToken.IsCancellationRequested)
            {
                // Whatever the failure, the loop goes on.
                LogPullFailed(logger, e.Message, delay.TotalSeconds);
                if (e is PubSubUnavailableException { NotFound: true } && options.CreateResources)
                {
                    // The subscription (or topic) was deleted: make them again rather than pull from nothing for ever.
                    await TryAsync(() => SetUpAsync(cancellationToken));
                }

                await Task.Delay(delay, cancellationToken);
                delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 10_000));
            }
        }
    }

    public async Task<IReadOnlyList<long>> DrainDeadLettersAsync(int max, CancellationToken cancellationToken)
    {
        try
        {
            return await DrainAsync(max, cancellationToken);
        }
        catch (PubSubUnavailableException e)
        {
            throw new BackendUnreachableException($"{SettingName}: {e.Message}", e);
        }
    }

    private async Task<IReadOnlyList<long>> DrainAsync(int max, CancellationToken cancellationToken)
    {
        if (options.DeadLetterTopic.Length == 0)
        {
            return [];
        }

        var ids = new List<long>();
        while (ids.Count < max)
        {
            var messages = await PullAsync(DeadLetterSubscriptionPath, Math.Min(100, max - ids.Count), true, cancellationToken);
            if (messages.Length == 0)
            {
                break;
            }

            ids.AddRange(messages.Select(m => ParseTaskId(m.Message)).OfType<long>());
            using var response = await SendAsync(HttpMethod.Post, $"{DeadLetterSubscriptionPath}:acknowledge", new AcknowledgeRequest([.. messages.Select(m => m.AckId)]), TimeSpan.FromSeconds(10), cancellationToken);
            await EnsureSuccessAsync(response, "acknowledge on", DeadLetterSubscriptionPath, cancellationToken);
        }

        if (ids.Count > 0)
        {
            LogDrained(logger, ids.Count, options.DeadLetterTopic);
        }

        return ids;
    }

    private async Task<ReceivedMessage[]> PullAsync(string subscription, int max, bool returnImmediately, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(HttpMethod.Post, $"{subscription}:pull", new PullRequest(max, returnImmediately), TimeSpan.FromSeconds(60), cancellationToken);
        await EnsureSuccessAsync(response, "pull from", subscription, cancellationToken);
        var pulled = await response.Content.ReadFromJsonAsync<PullResponse>(cancellationToken);
        return pulled?.ReceivedMessages ?? [];
    }

    private static long? ParseTaskId(PubsubMessage message) => ReadMessage(message)?.TaskId;

    private static TaskMessage? ReadMessage(PubsubMessage message)
    {
        try
        {
            return TaskMessage.Read(Convert.FromBase64String(message.Data ?? ""));
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private static async Task TryAsync(Func<Task> action)
    {
        try
        {
            await action();
        }
        catch (Exception e) when (e is HttpRequestException or IOException or PubSubUnavailableException or TimeoutException)
        {
            // The next pull says whether it worked.
        }
    }

    public bool IsDurable => true;

    public async Task<bool> IsReadyAsync(CancellationToken cancellationToken)
    {
        try
        {
            // A worker needs its subscription, not just the topic.
            using var response = await SendAsync(HttpMethod.Get, wantsToConsume ? SubscriptionPath : TopicPath, null, TimeSpan.FromSeconds(5), cancellationToken);
            return response.IsSuccessStatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or IOException or TimeoutException or InvalidOperationException && !cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    public async Task SetUpAsync(CancellationToken cancellationToken)
    {
        if (options.CreateResources)
        {
            if (options.DeadLetterTopic.Length > 0)
            {
                await CreateAsync(DeadLetterTopicPath, new { }, cancellationToken);

                // Without a subscription a topic keeps nothing; this one lets the sweeper drain what was given up on.
                await CreateAsync(DeadLetterSubscriptionPath, new { topic = $"projects/{options.ProjectId}/topics/{options.DeadLetterTopic}", ackDeadlineSeconds = 60 }, cancellationToken);
            }

            await CreateAsync(TopicPath, new { }, cancellationToken);
            await CreateAsync(SubscriptionPath, new { topic = $"projects/{options.ProjectId}/topics/{options.Topic}", ackDeadlineSeconds = options.AckDeadlineSeconds }, cancellationToken);
            return;
        }

        using var response = await SendAsync(HttpMethod.Get, TopicPath, null, TimeSpan.FromSeconds(10), cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            throw new BackendUnreachableException($"Queue:PubSub:Topic '{options.Topic}' does not exist in project '{options.ProjectId}'; create it or set Queue:PubSub:CreateResources=true.");
        }

        await EnsureSuccessAsync(response, "read", TopicPath, cancellationToken);
    }

    /// <summary>Deletes the subscription and topic (tests use one pair each).</summary>
    public async Task DeleteResourcesAsync(CancellationToken cancellationToken)
    {
        using var subscription = await SendAsync(HttpMethod.Delete, SubscriptionPath, null, TimeSpan.FromSeconds(10), cancellationToken);
        using var topic = await SendAsync(HttpMethod.Delete, TopicPath, null, TimeSpan.FromSeconds(10), cancellationToken);
        if (options.DeadLetterTopic.Length > 0)
        {
            using var drain = await SendAsync(HttpMethod.Delete, DeadLetterSubscriptionPath, null, TimeSpan.FromSeconds(10), cancellationToken);
            using var dead = await SendAsync(HttpMethod.Delete, DeadLetterTopicPath, null, TimeSpan.FromSeconds(10), cancellationToken);
        }
    }

    private async Task CreateAsync(string path, object body, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(HttpMethod.Put, path, body, TimeSpan.FromSeconds(10), cancellationToken);
        if (response.StatusCode != HttpStatusCode.Conflict)
        {
            await EnsureSuccessAsync(response, "create", path, cancellationToken);
        }
    }

    private async Task AcknowledgeAsync(string subscription, string ackId, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(HttpMethod.Post, $"{subscription}:acknowledge", new AcknowledgeRequest([ackId]), TimeSpan.FromSeconds(10), cancellationToken);
        await EnsureSuccessAsync(response, "acknowledge on", subscription, cancellationToken);
    }

    private async Task ModifyAckDeadlineAsync(string ackId, int seconds, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(HttpMethod.Post, $"{SubscriptionPath}:modifyAckDeadline", new ModifyAckDeadlineRequest([ackId], seconds), TimeSpan.FromSeconds(10), cancellationToken);
        await EnsureSuccessAsync(response, "extend a deadline on", SubscriptionPath, cancellationToken);
    }

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, object? body, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body, body.GetType());
        }

        if (!emulator)
        {
            var token = await (await CredentialAsync(deadline.Token)).GetAccessTokenForRequestAsync(http.BaseAddress!.ToString(), deadline.Token);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        try
        {
            return await http.SendAsync(request, deadline.Token);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"Pub/Sub did not answer {method} {path} within {timeout.TotalSeconds} s.", e);
        }
    }

    private async Task<ITokenAccess> CredentialAsync(CancellationToken cancellationToken)
    {
        if (credential is not null)
        {
            return credential;
        }

        await credentialGate.WaitAsync(cancellationToken);
        try
        {
            credential ??= (await GoogleCredential.GetApplicationDefaultAsync(cancellationToken)).CreateScoped(Scope);
            return credential;
        }
        finally
        {
            credentialGate.Release();
        }
    }

    private static async Task EnsureSuccessAsync(HttpResponseMessage response, string action, string path, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        var detail = await response.Content.ReadAsStringAsync(cancellationToken);
        if (detail.Length > 300)
        {
            detail = detail[..300];
        }

        throw new PubSubUnavailableException($"Pub/Sub refused to {action} {path}: {(int)response.StatusCode} {detail.ReplaceLineEndings(" ")}") { NotFound = response.StatusCode == HttpStatusCode.NotFound };
    }

    public void Dispose() => credentialGate.Dispose();

    private sealed class Delivery(PubSubTaskQueue queue, string ackId, long taskId, int count) : IQueueDelivery
    {
        public long TaskId => taskId;
        public int DeliveryCount => count;
        public string? TraceParent { get; init; }

        public Task AckAsync(CancellationToken cancellationToken) => queue.AcknowledgeAsync(queue.SubscriptionPath, ackId, cancellationToken);

        public async Task NackAsync(bool requeue, CancellationToken cancellationToken)
        {
            if (requeue)
            {
                // Handed back because the worker could not look at the task (the database is away, it is stopping): a
                // fresh copy does not count as a failed delivery attempt on a subscription with a dead-letter policy.
                await queue.PublishAsync(taskId, cancellationToken);
                await queue.AcknowledgeAsync(queue.SubscriptionPath, ackId, cancellationToken);
                return;
            }

            if (queue.options.DeadLetterTopic.Length > 0)
            {
                var request = new PublishRequest([new PubsubMessage(Convert.ToBase64String(new TaskMessage(taskId).ToBytes()))]);
                using var response = await queue.SendAsync(HttpMethod.Post, $"{queue.DeadLetterTopicPath}:publish", request, TimeSpan.FromSeconds(10), cancellationToken);
                await EnsureSuccessAsync(response, "publish to", queue.options.DeadLetterTopic, cancellationToken);
            }

            await queue.AcknowledgeAsync(queue.SubscriptionPath, ackId, cancellationToken);
        }

        public Task KeepAliveAsync(CancellationToken cancellationToken) => queue.ModifyAckDeadlineAsync(ackId, queue.options.AckDeadlineSeconds, cancellationToken);
    }

    private sealed record PublishRequest([property: JsonPropertyName("messages")] PubsubMessage[] Messages);

    private sealed record PubsubMessage([property: JsonPropertyName("data")] string? Data);

    private sealed record PullRequest([property: JsonPropertyName("maxMessages")] int MaxMessages, [property: JsonPropertyName("returnImmediately")] bool ReturnImmediately);

    private sealed record PullResponse([property: JsonPropertyName("receivedMessages")] ReceivedMessage[]? ReceivedMessages);

    private sealed record ReceivedMessage(
        [property: JsonPropertyName("ackId")] string AckId,
        [property: JsonPropertyName("message")] PubsubMessage Message,
        [property: JsonPropertyName("deliveryAttempt")] int? DeliveryAttempt);

    private sealed record AcknowledgeRequest([property: JsonPropertyName("ackIds")] string[] AckIds);

    private sealed record ModifyAckDeadlineRequest([property: JsonPropertyName("ackIds")] string[] AckIds, [property: JsonPropertyName("ackDeadlineSeconds")] int AckDeadlineSeconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Pulling from Pub/Sub failed, retrying in {DelaySeconds} s: {Reason}")]
    private static partial void LogPullFailed(ILogger logger, string reason, double delaySeconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Drained {Count} messages given up on from the dead-letter topic {Topic}; the sweeper republishes the tasks still owed one")]
    private static partial void LogDrained(ILogger logger, int count, string topic);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Acknowledged and dropped a Pub/Sub message that is not a task message")]
    private static partial void LogMalformed(ILogger logger);
}
