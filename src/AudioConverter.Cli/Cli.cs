using System.Globalization;

namespace AudioConverter.Cli;

/// <summary>Where the CLI runs: its streams, environment and (for tests) an HTTP handler. The real one is the console's.</summary>
public sealed record CliContext(TextWriter Out, TextWriter Error, TextReader In, IReadOnlyDictionary<string, string?> Environment, bool Interactive, HttpMessageHandler? Handler = null);

/// <summary>The commands: login, convert, list, status, download, delete. Exit codes: 0 done, 1 something failed, 2 wrong usage, 130 interrupted.</summary>
public static class Cli
{
    public const int Ok = 0;
    public const int Failed = 1;
    public const int Usage = 2;
    public const int Interrupted = 130;

    private static readonly HashSet<string> AudioExtensions = new(StringComparer.OrdinalIgnoreCase)
    {
        ".mp3", ".wav", ".ogg", ".oga", ".flac", ".m4a", ".aac", ".opus", ".wma", ".aif", ".aiff", ".mka", ".webm", ".amr", ".ac3",
    };

    public const string Help = """
        audioconverter: convert audio files with an AudioConverter server.

          audioconverter login --server URL --username NAME [--password PASSWORD]   (password read from stdin if left out)
          audioconverter login --server URL --api-key ack_...
          audioconverter convert FILES-OR-FOLDERS... --to FORMAT [--option NAME=VALUE]... [--preset NAME]
                                 [--out DIR] [--jobs N] [--force]       (with --preset, --to defaults to its format)
          audioconverter list [--max N]
          audioconverter status ID
          audioconverter download ID [--out DIR] [--force]
          audioconverter delete ID

        Credentials are kept in ~/.config/audioconverter/credentials.json (mode 0600; $XDG_CONFIG_HOME is honoured).
        Exit codes: 0 all done, 1 something failed, 2 wrong usage, 130 interrupted (a rerun picks up the same tasks).
        """;

    public static async Task<int> RunAsync(string[] args, CliContext context, CancellationToken cancellationToken)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            await context.Out.WriteLineAsync(Help);
            return args.Length == 0 ? Usage : Ok;
        }

        ParsedArgs parsed;
        try
        {
            parsed = ParsedArgs.Parse(args[1..]);
        }
        catch (UsageException e)
        {
            await context.Error.WriteLineAsync($"audioconverter: {e.Message}");
            return Usage;
        }

        try
        {
            return args[0] switch
            {
                "login" => await LoginAsync(parsed, context, cancellationToken),
                "convert" => await ConvertCommand.RunAsync(parsed, context, Connect(context), cancellationToken),
                "list" => await ListAsync(parsed, context, cancellationToken),
                "status" => await StatusAsync(parsed, context, cancellationToken),
                "download" => await DownloadAsync(parsed, context, cancellationToken),
                "delete" => await DeleteAsync(parsed, context, cancellationToken),
                _ => throw new UsageException($"'{args[0]}' is not a command; run 'audioconverter --help'."),
            };
        }
        catch (UsageException e)
        {
            await context.Error.WriteLineAsync($"audioconverter: {e.Message}");
            return Usage;
        }
        catch (ApiException e)
        {
            await context.Error.WriteLineAsync($"audioconverter: {e.Message}");
            return Failed;
        }
        catch (HttpRequestException e)
        {
            await context.Error.WriteLineAsync($"audioconverter: the server cannot be reached: {e.Message}");
            return Failed;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await context.Error.WriteLineAsync("audioconverter: interrupted; run the same command again to pick up where it stopped.");
            return Interrupted;
        }
    }

    internal static string ConfigFolder(CliContext context) => Credentials.ConfigFolder(context.Environment);

    internal static (Credentials Credentials, ApiClient Api) Connect(CliContext context)
    {
        var credentials = Credentials.Load(ConfigFolder(context))
            ?? throw new UsageException("not logged in; run 'audioconverter login --server URL --username NAME' (or --api-key) first.");
        return (credentials, new ApiClient(ApiClient.Create(credentials, context.Handler)));
    }

    internal static IEnumerable<string> AudioFilesUnder(string folder) =>
        Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Where(f => AudioExtensions.Contains(Path.GetExtension(f))).Order(StringComparer.Ordinal);

    private static async Task<int> LoginAsync(ParsedArgs args, CliContext context, CancellationToken cancellationToken)
    {
        var server = args.Single("server") ?? throw new UsageException("login needs --server URL, e.g. --server http://127.0.0.1:8080.");
        if (!Uri.TryCreate(server, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            throw new UsageException($"'{server}' is not an http(s) URL.");
        }

        Credentials credentials;
        if (args.Single("api-key") is { } key)
        {
            credentials = new Credentials(server, null, key.Trim(), null, null);
            await new ApiClient(ApiClient.Create(credentials, context.Handler)).CheckAsync(cancellationToken);
        }
        else
        {
            var username = args.Single("username") ?? throw new UsageException("login needs --username NAME (and a password) or --api-key KEY.");
            var password = args.Single("password") ?? (await context.In.ReadLineAsync(cancellationToken))?.TrimEnd('\r', '\n')
                ?? throw new UsageException("give the password with --password or on standard input.");
            var token = await new ApiClient(ApiClient.Create(new Credentials(server, null, null, null, null), context.Handler)).LoginAsync(username, password, cancellationToken);
            credentials = new Credentials(server, token, null, username, null);
        }

        credentials.Save(ConfigFolder(context));
        await context.Out.WriteLineAsync($"Logged in to {server}{(credentials.Username is null ? " with an API key" : " as " + credentials.Username)}; credentials are in {Path.Combine(ConfigFolder(context), Credentials.FileName)}.");
        return Ok;
    }

    private static async Task<int> ListAsync(ParsedArgs args, CliContext context, CancellationToken cancellationToken)
    {
        var max = args.Int("max") ?? 50;
        var (_, api) = Connect(context);
        var tasks = await api.ListAsync(max, cancellationToken);
        await context.Out.WriteLineAsync($"{"ID",8}  {"STATUS",-10} {"TO",-5} {"CREATED",-20} FILE");
        foreach (var task in tasks)
        {
            await context.Out.WriteLineAsync($"{task.Id,8}  {task.Status,-10} {task.NewFormat,-5} {task.CreatedAt.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),-20} {task.FileName}");
        }

        return Ok;
    }

    private static async Task<int> StatusAsync(ParsedArgs args, CliContext context, CancellationToken cancellationToken)
    {
        var id = args.Id();
        var (_, api) = Connect(context);
        var task = await api.FindAsync(id, cancellationToken) ?? throw new ApiException(System.Net.HttpStatusCode.NotFound, $"there is no task {id} for this account.");
        await context.Out.WriteLineAsync($"task {task.Id}: {task.FileName} -> {task.NewFormat}: {task.Status}{(task.Error is null ? "" : ": " + task.Error)}");
        return task.Status == "failed" ? Failed : Ok;
    }

    private static async Task<int> DownloadAsync(ParsedArgs args, CliContext context, CancellationToken cancellationToken)
    {
        var id = args.Id();
        var (_, api) = Connect(context);
        var task = await api.FindAsync(id, cancellationToken) ?? throw new ApiException(System.Net.HttpStatusCode.NotFound, $"there is no task {id} for this account.");
        var target = Path.Combine(args.Single("out") ?? Directory.GetCurrentDirectory(), Path.GetFileNameWithoutExtension(task.FileName) + "." + task.NewFormat);
        if (File.Exists(target) && !args.Flag("force"))
        {
            throw new ApiException(System.Net.HttpStatusCode.Conflict, $"{target} exists; pass --force to overwrite it.");
        }

        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        await api.DownloadAsync(id, target, overwrite: true, cancellationToken);
        await context.Out.WriteLineAsync($"saved {target}");
        return Ok;
    }

    private static async Task<int> DeleteAsync(ParsedArgs args, CliContext context, CancellationToken cancellationToken)
    {
        var id = args.Id();
        var (_, api) = Connect(context);
        await api.DeleteAsync(id, cancellationToken);
        await context.Out.WriteLineAsync($"deleted task {id}");
        return Ok;
    }
}

public sealed class UsageException(string message) : Exception(message);

/// <summary>Hand-rolled parsing: positional values, --name value, --name=value, repeated options, and flags.</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1720", Justification = "Single and Int say what an option is read as: its single (last) value, a whole number.")]
public sealed class ParsedArgs
{
    private static readonly HashSet<string> Flags = ["force"];
    private static readonly HashSet<string> Known = ["server", "username", "password", "api-key", "to", "option", "preset", "out", "jobs", "force", "max"];

    public List<string> Positional { get; } = [];
    public Dictionary<string, List<string>> Options { get; } = [];

    public static ParsedArgs Parse(string[] args)
    {
        var parsed = new ParsedArgs();
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal) || arg == "--")
            {
                parsed.Positional.Add(arg);
                continue;
            }

            var name = arg[2..];
            string? value = null;
            if (name.IndexOf('=', StringComparison.Ordinal) is var equals and > 0)
            {
                value = name[(equals + 1)..];
                name = name[..equals];
            }

            if (!Known.Contains(name))
            {
                throw new UsageException($"'--{name}' is not an option; run 'audioconverter --help'.");
            }

            if (Flags.Contains(name))
            {
                value ??= "true";
            }
            else if (value is null)
            {
                value = ++i < args.Length ? args[i] : throw new UsageException($"'--{name}' needs a value.");
            }

            if (!parsed.Options.TryGetValue(name, out var list))
            {
                parsed.Options[name] = list = [];
            }

            list.Add(value);
        }

        return parsed;
    }

    public string? Single(string name) => Options.TryGetValue(name, out var values) ? values[^1] : null;

    public IReadOnlyList<string> All(string name) => Options.TryGetValue(name, out var values) ? values : [];

    public bool Flag(string name) => Single(name) is "true";

    public int? Int(string name) => Single(name) is not { } text ? null
        : int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value > 0 ? value
        : throw new UsageException($"'--{name}' must be a positive whole number; got '{text}'.");

    public long Id() => Positional.Count == 1 && long.TryParse(Positional[0], NumberStyles.None, CultureInfo.InvariantCulture, out var id)
        ? id
        : throw new UsageException("give one task id, e.g. 'audioconverter status 42'.");
}
