namespace AudioConverter.Bench;

internal sealed record ProcessSample(double Seconds, long RssKb, long HwmKb, long CpuTicks, long ChildCpuTicks, long MachineTotalTicks, long MachineIdleTicks);
