using System.Text.Json;
using System.Text.Json.Nodes;

namespace AudioConverter.Tests.Security;

/// <summary>Problem bodies as an attacker compares them: everything except the per-request trace id.</summary>
public static class Problem
{
    public static async Task<string> WithoutTraceIdAsync(HttpResponseMessage response)
    {
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
        body.Remove("traceId");
        return body.ToJsonString(new JsonSerializerOptions { WriteIndented = false });
    }
}
