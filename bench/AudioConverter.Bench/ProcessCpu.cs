using System.Globalization;

namespace AudioConverter.Bench;

/// <summary>A process's own CPU time (utime + stime from /proc/PID/stat, children excluded), in milliseconds.</summary>
internal static class ProcessCpu
{
    public static double Milliseconds(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        long Field(int number) => long.Parse(fields[number - 3], CultureInfo.InvariantCulture);
        return (Field(14) + Field(15)) * 10.0; // USER_HZ = 100
    }
}
