namespace AudioConverter.Tests.Faults;

/// <summary>Tests that start, kill and time real server processes run alone, so other tests' CPU use cannot skew them.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessCollection
{
    public const string Name = "Server processes";
}
