namespace AudioConverter.Cli;

/// <summary>
/// convert FILES-OR-FOLDERS --to FORMAT (or --preset NAME alone): uploads in parallel (--jobs), follows each task, downloads each result next to its
/// input or into --out, never overwriting without --force. Conversion percent comes from one GET /api/events per run. Each conversion's idempotency key comes from the file's content
/// hash and the options, and is kept in state.json with its task: a rerun after Ctrl-C follows the same tasks.
/// </summary>
public static class ConvertCommand
{
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(500);

    private sealed record Job(string Input, string Target, ProgressView.Line Line);

    public static async Task<int> RunAsync(ParsedArgs args, CliContext context, (Credentials Credentials, ApiClient Api) connection, CancellationToken cancellationToken)
    {
        var format = await FormatAsync(args, connection.Api, cancellationToken);
        var fields = Fields(args);
        var inputs = Inputs(args.Positional);
        var jobs = Math.Min(args.Int("jobs") ?? 4, 16);
        var outFolder = args.Single("out") is { } o ? Path.GetFullPath(o) : null;
        var view = new ProgressView(context.Out, context.Interactive);
        var (plan, failures) = Plan(inputs, format, outFolder, args.Flag("force"), view);

        var state = ConvertState.Load(Cli.ConfigFolder(context));
        await using var events = new TaskEventStream(connection.Api.Http);
        await events.StartAsync(TimeSpan.FromSeconds(10), cancellationToken);
        var converted = 0;
        using var limit = new SemaphoreSlim(jobs);
        using var rendering = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var renderer = RenderAsync(view, rendering.Token);
        try
        {
            await Task.WhenAll(plan.Select(async job =>
            {
                await limit.WaitAsync(cancellationToken);
                try
                {
                    await ConvertOneAsync(job, format, fields, connection, state, view, events, cancellationToken);
                    Interlocked.Increment(ref converted);
                }
                catch (Exception e) when (e is ApiException or IOException or HttpRequestException or UnauthorizedAccessException && !cancellationToken.IsCancellationRequested)
                {
                    view.Update(job.Line, "failed: " + e.Message);
                    lock (failures)
                    {
                        failures.Add((job.Input, e.Message));
                    }
                }
                finally
                {
                    limit.Release();
                }
            }));
        }
        finally
        {
            await rendering.CancelAsync();
            await renderer;
            view.Render();
        }

        await context.Out.WriteLineAsync($"{converted} converted, {failures.Count} failed.");
        foreach (var (file, reason) in failures.OrderBy(f => f.File, StringComparer.Ordinal))
        {
            await context.Out.WriteLineAsync($"  failed: {file}: {reason}");
        }

        return failures.Count == 0 ? Cli.Ok : Cli.Failed;
    }

    /// <summary>--to, or else the format the --preset names (asked of the server: the user's own presets are there too).</summary>
    private static async Task<string> FormatAsync(ParsedArgs args, ApiClient api, CancellationToken cancellationToken)
    {
        if (args.Single("to")?.Trim().ToLowerInvariant() is { Length: > 0 } to)
        {
            return to;
        }

        if (args.Single("preset") is not { } preset)
        {
            throw new UsageException("convert needs --to FORMAT (e.g. --to mp3) or --preset NAME.");
        }

        return await api.PresetFormatAsync(preset, cancellationToken) is { Length: > 0 } format
            ? format.ToLowerInvariant()
            : throw new UsageException($"the server has no preset named '{preset}' (GET /api/presets lists them); give --to FORMAT or a preset's name.");
    }

    /// <summary>The upload's form fields: each --option NAME=VALUE, and --preset.</summary>
    private static List<KeyValuePair<string, string>> Fields(ParsedArgs args)
    {
        var fields = new List<KeyValuePair<string, string>>();
        foreach (var option in args.All("option"))
        {
            var equals = option.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw new UsageException($"'--option {option}' must be NAME=VALUE, e.g. --option bitrate=192k.");
            }

            fields.Add(new(option[..equals], option[(equals + 1)..]));
        }

        if (args.Single("preset") is { } preset)
        {
            fields.Add(new("preset", preset));
        }

        return fields;
    }

    /// <summary>The files to convert: each file given, and the audio files under each folder given.</summary>
    private static List<string> Inputs(IReadOnlyList<string> paths)
    {
        var inputs = new List<string>();
        foreach (var path in paths)
        {
            if (Directory.Exists(path))
            {
                inputs.AddRange(Cli.AudioFilesUnder(path));
            }
            else if (File.Exists(path))
            {
                inputs.Add(Path.GetFullPath(path));
            }
            else
            {
                throw new UsageException($"'{path}' is neither a file nor a folder.");
            }
        }

        if (inputs.Count == 0)
        {
            throw new UsageException("give the files or folders to convert; a folder's audio files are converted, its other files skipped.");
        }

        return inputs;
    }

    /// <summary>Where each input goes; inputs that cannot be converted (same file, two inputs to one target, no --force) are failures.</summary>
    private static (List<Job> Plan, List<(string File, string Reason)> Failures) Plan(List<string> inputs, string format, string? outFolder, bool force, ProgressView view)
    {
        var plan = new List<Job>();
        var failures = new List<(string File, string Reason)>();
        var targets = new HashSet<string>(StringComparer.Ordinal);
        foreach (var input in inputs.Distinct(StringComparer.Ordinal))
        {
            var target = Path.Combine(outFolder ?? Path.GetDirectoryName(Path.GetFullPath(input))!, Path.GetFileNameWithoutExtension(input) + "." + format);
            if (target == Path.GetFullPath(input))
            {
                failures.Add((input, "it is already in that format here; use --out DIR to convert it into another folder."));
            }
            else if (!targets.Add(target))
            {
                failures.Add((input, $"another input also becomes {target}; convert them into separate folders with --out."));
            }
            else if (File.Exists(target) && !force)
            {
                failures.Add((input, $"{target} exists; pass --force to overwrite it."));
            }
            else
            {
                plan.Add(new Job(input, target, view.Add(Path.GetFileName(input), new FileInfo(input).Length)));
            }
        }

        return (plan, failures);
    }

    private static async Task ConvertOneAsync(
        Job job, string format, List<KeyValuePair<string, string>> fields, (Credentials Credentials, ApiClient Api) connection, ConvertState state, ProgressView view, TaskEventStream events, CancellationToken cancellationToken)
    {
        var api = connection.Api;
        var hash = await ConvertState.HashFileAsync(job.Input, cancellationToken);
        var key = ConvertState.KeyFor(connection.Credentials.Server, hash, format, fields);
        var task = state.Find(key) is { } known ? await api.FindAsync(known, cancellationToken) : null;
        if (task is null)
        {
            view.Update(job.Line, "uploading", 0);
            task = await api.UploadAsync(job.Input, format, fields, key, sent => view.Update(job.Line, "uploading", sent), cancellationToken);
            state.Remember(key, task.Id);
        }

        view.Update(job.Line, $"uploaded as task {task.Id}", job.Line.Total);
        Show(view, job.Line, task);
        task = await events.FollowAsync(task, api, PollInterval, changed => Show(view, job.Line, changed), cancellationToken);

        if (task.Status == "failed")
        {
            state.Forget(key);
            throw new ApiException(System.Net.HttpStatusCode.UnprocessableEntity, task.Error ?? "the conversion failed.");
        }

        // The server's extension for the format (e.g. m4a for alac) names the file; the plan used the format's name.
        var extension = task.ConvertedUrl is { } url ? Path.GetExtension(url) : "." + format;
        var target = Path.ChangeExtension(job.Target, extension);
        view.Update(job.Line, "downloading");
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        await api.DownloadAsync(task.Id, target, overwrite: true, cancellationToken);
        state.Forget(key);
        view.Update(job.Line, $"done: {target}");
    }

    /// <summary>Queued, or the conversion's percent as the event stream (or, while it is down, a poll) reports it.</summary>
    private static void Show(ProgressView view, ProgressView.Line line, TaskInfo task)
    {
        if (task.Status == "processing")
        {
            view.Converting(line, task.Progress ?? 0);
        }
        else if (task.Status == "uploaded")
        {
            view.Update(line, "queued");
        }
    }

    private static async Task RenderAsync(ProgressView view, CancellationToken cancellationToken)
    {
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                view.Render();
                await Task.Delay(200, cancellationToken);
            }
        }
        catch (OperationCanceledException)
        {
            // The run ended; the final frame is drawn by the caller.
        }
    }
}
