using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using AudioConverter.Server.Auth;
using AudioConverter.Server.Tasks;
using AudioConverter.Tests.Faults;

namespace AudioConverter.Tests.Fixtures;

/// <summary>Talks to the API the way a client program would.</summary>
public static class ApiClient
{
    public static readonly JsonSerializerOptions Json = JsonSerializerOptions.Web;

    /// <summary>Signs up a new user with a unique name and returns a client that sends its token.</summary>
    public static async Task<HttpClient> NewUserAsync(this HttpClient anonymous, Func<HttpClient> createClient, string? name = null)
    {
        name ??= "u" + Guid.NewGuid().ToString("N")[..12];
        var signup = await anonymous.PostAsJsonAsync("/api/auth/signup", new { username = name, email = $"{name}@example.com", password1 = "correct horse", password2 = "correct horse" });
        signup.EnsureSuccessStatusCode();
        var login = await anonymous.PostAsJsonAsync("/api/auth/login", new { username = name, password = "correct horse" });
        login.EnsureSuccessStatusCode();
        var token = (await login.Content.ReadFromJsonAsync<TokenResponse>(Json))!.Token;
        var client = createClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    public static async Task<HttpResponseMessage> UploadAsync(this HttpClient client, byte[] content, string fileName, string? newFormat, string field = "fileName")
    {
        using var form = new MultipartFormDataContent();
        form.Add(new ByteArrayContent(content), field, fileName);
        if (newFormat is not null)
        {
            form.Add(new StringContent(newFormat), "newFormat");
        }

        return await client.PostAsync("/api/tasks", form);
    }

    public static async Task<TaskResponse> UploadOkAsync(this HttpClient client, byte[] content, string fileName, string newFormat)
    {
        var response = await client.UploadAsync(content, fileName, newFormat);
        Assert.True(response.IsSuccessStatusCode, $"upload answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<TaskResponse>(Json))!;
    }

    /// <summary>Polls the task until it is processed or failed, or the deadline passes.</summary>
    public static Task<TaskResponse> WaitForTaskAsync(this HttpClient client, long id, TimeSpan? timeout = null) => Deadline.UntilAsync(
        async () => (await client.GetFromJsonAsync<TaskResponse>($"/api/tasks/{id}", Json))!,
        task => task.Status is "processed" or "failed",
        timeout ?? TimeSpan.FromSeconds(60),
        task => $"task {id} to be processed or failed (it is {task.Status})");

    public static async Task<JsonElement> ProblemAsync(this HttpResponseMessage response)
    {
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return await response.Content.ReadFromJsonAsync<JsonElement>(Json);
    }
}
