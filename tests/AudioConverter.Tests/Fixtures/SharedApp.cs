namespace AudioConverter.Tests.Fixtures;

/// <summary>One host shared by the tests of a class; each test still makes its own users and data.</summary>
public sealed class SharedApp : IDisposable
{
    public AppFactory Factory { get; } = new();

    /// <summary>A fresh user's authenticated client.</summary>
    public Task<HttpClient> NewUserAsync() => Factory.CreateClient().NewUserAsync(Factory.CreateClient);

    public void Dispose() => Factory.Dispose();
}
