namespace AudioConverter.Bench;

/// <summary>CPU percentages are of one core for the server and its children, of all cores for the machine.</summary>
internal sealed record ResourceUsage(double PeakRssMb, double HwmMb, double ServerCpuPercent, double ChildrenCpuPercent, double MachineCpuPercent);
