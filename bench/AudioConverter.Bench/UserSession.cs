namespace AudioConverter.Bench;

/// <summary>A signed-up, logged-in bench user and the tasks it made (deleted at the end of its scenario).</summary>
internal sealed class UserSession(string username, string token)
{
    private readonly List<long> taskIds = [];
    private readonly Lock gate = new();

    public string Username { get; } = username;

    public string Token { get; } = token;

    public void Track(long taskId)
    {
        lock (gate)
        {
            taskIds.Add(taskId);
        }
    }

    public IReadOnlyList<long> TaskIds
    {
        get
        {
            lock (gate)
            {
                return [.. taskIds];
            }
        }
    }

    public void Forget(long taskId)
    {
        lock (gate)
        {
            taskIds.Remove(taskId);
        }
    }
}
