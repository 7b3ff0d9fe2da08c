namespace AudioConverter.Server.Tasks;

public sealed record ReconvertRequest(string? NewFormat);
