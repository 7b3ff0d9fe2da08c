namespace AudioConverter.Server.Hosting;

/// <summary>Which roles this process plays: api, worker, or both (the default). A root setting: Role, or --role.</summary>
public sealed class HostingOptions
{
    public string Role { get; set; } = "both";

    public bool RunsApi => Role.Equals("api", StringComparison.OrdinalIgnoreCase) || Role.Equals("both", StringComparison.OrdinalIgnoreCase);

    public bool RunsWorker => Role.Equals("worker", StringComparison.OrdinalIgnoreCase) || Role.Equals("both", StringComparison.OrdinalIgnoreCase);

    public bool RunsBoth => RunsApi && RunsWorker;
}
