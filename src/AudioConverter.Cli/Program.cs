namespace AudioConverter.Cli;

public static class EntryPoint
{
    public static async Task<int> Main(string[] args)
    {
        using var interrupt = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            // The first Ctrl-C stops cleanly (the state is saved); a second one ends the process at once.
            if (!interrupt.IsCancellationRequested)
            {
                e.Cancel = true;
                interrupt.Cancel();
            }
        };
        var environment = Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
            .ToDictionary(e => (string)e.Key, e => (string?)e.Value);
        var context = new CliContext(Console.Out, Console.Error, Console.In, environment, Interactive: !Console.IsOutputRedirected);
        return await Cli.RunAsync(args, context, interrupt.Token);
    }
}
