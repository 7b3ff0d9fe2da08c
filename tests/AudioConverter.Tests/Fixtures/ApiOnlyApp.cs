using AudioConverter.Core.Tasks;
using AudioConverter.Infrastructure.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace AudioConverter.Tests.Fixtures;

/// <summary>A host with the API role only: tasks stay as the test puts them, since no worker runs.</summary>
public sealed class ApiOnlyApp : IDisposable
{
    public AppFactory Factory { get; } = new(new Dictionary<string, string?> { ["Role"] = "api", ["Queue:InProcessWithoutWorker"] = "true", ["Uploads:MaxFileBytes"] = "1000000" });

    public Task<HttpClient> NewUserAsync() => Factory.CreateClient().NewUserAsync(Factory.CreateClient);

    /// <summary>Sets a task's status directly, as a worker would.</summary>
    public async Task SetStatusAsync(long taskId, ConversionStatus status)
    {
        using var scope = Factory.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        await db.Tasks.Where(t => t.Id == taskId).ExecuteUpdateAsync(s => s.SetProperty(t => t.Status, status));
    }

    public void Dispose() => Factory.Dispose();
}
