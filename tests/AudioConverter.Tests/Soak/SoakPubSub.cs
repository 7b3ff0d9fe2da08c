using System.Net.Http.Json;
using System.Text.Json;
using AudioConverter.Tests.Contracts;

namespace AudioConverter.Tests.Soak;

/// <summary>The soak's topic and subscription on the shared emulator, through its REST API (never stopped, only its own resources touched).</summary>
public static class SoakPubSub
{
    /// <summary>Messages still in the subscription: pulled (and so counted) once no worker is left to take them.</summary>
    public static async Task<int> PullRemainingAsync(SoakStack stack)
    {
        using var client = Client();
        var total = 0;
        for (var round = 0; round < 3; round++)
        {
            using var response = await client.PostAsJsonAsync($"v1/projects/{stack.PubSubProject}/subscriptions/{stack.PubSubSubscription}:pull", new { maxMessages = 1000, returnImmediately = true });
            response.EnsureSuccessStatusCode();
            var body = await response.Content.ReadFromJsonAsync<JsonElement>();
            var count = body.TryGetProperty("receivedMessages", out var messages) ? messages.GetArrayLength() : 0;
            total += count;
            if (count == 0)
            {
                break;
            }
        }

        return total;
    }

    public static async Task DeleteAsync(SoakStack stack)
    {
        using var client = Client();
        try
        {
            using var subscription = await client.DeleteAsync($"v1/projects/{stack.PubSubProject}/subscriptions/{stack.PubSubSubscription}");
            using var topic = await client.DeleteAsync($"v1/projects/{stack.PubSubProject}/topics/{stack.PubSubTopic}");
        }
        catch (HttpRequestException)
        {
            // The emulator went away with the run; its resources went with it.
        }
    }

    private static HttpClient Client() => new() { BaseAddress = new Uri($"http://{ExternalServices.PubSubEmulator}/"), Timeout = TimeSpan.FromSeconds(30) };
}
