using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using AudioConverter.Cli;
using AudioConverter.Server.Tasks;
using AudioConverter.Tests.Fixtures;

namespace AudioConverter.Tests.Cli;

/// <summary>The audioconverter tool, run in-process through its entry point against the real server on a real port.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class CliTests : IClassFixture<CliTests.Server>, IDisposable
{
    private readonly Server server;
    private readonly string home = Path.Combine(Path.GetTempPath(), "ac-cli", Guid.NewGuid().ToString("N"));
    private readonly string username = "cli" + Guid.NewGuid().ToString("N")[..10];

    public CliTests(Server server)
    {
        this.server = server;
        Directory.CreateDirectory(home);
    }

    public sealed class Server : IDisposable
    {
        public KestrelApp App { get; } = new();

        public void Dispose() => App.Dispose();
    }

    public void Dispose() => Directory.Delete(home, recursive: true);

    private string ConfigFolder => Path.Combine(home, "config", "audioconverter");

    private async Task<(int Code, string Out, string Error)> RunAsync(string[] args, TextWriter? output = null, HttpMessageHandler? handler = null, CancellationToken cancellationToken = default)
    {
        var stdout = output ?? new StringWriter();
        var stderr = new StringWriter();
        var environment = new Dictionary<string, string?> { ["XDG_CONFIG_HOME"] = Path.Combine(home, "config") };
        var code = await AudioConverter.Cli.Cli.RunAsync(args, new CliContext(stdout, stderr, new StringReader(""), environment, Interactive: false, handler), cancellationToken);
        return (code, stdout.ToString()!, stderr.ToString());
    }

    private async Task<HttpClient> LoginAsync()
    {
        var user = await server.App.NewUserAsync(username);
        var (code, output, error) = await RunAsync(["login", "--server", server.App.BaseAddress.ToString(), "--username", username, "--password", "correct horse"]);
        Assert.True(code == 0, output + error);
        return user;
    }

    private string Folder(params (string Name, byte[] Content)[] files)
    {
        var folder = Path.Combine(home, "music");
        Directory.CreateDirectory(folder);
        foreach (var (name, content) in files)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(folder, name))!);
            File.WriteAllBytes(Path.Combine(folder, name), content);
        }

        return folder;
    }

    [Fact]
    public async Task Login_keeps_credentials_in_the_XDG_config_folder_with_mode_0600_and_an_api_key_works_too()
    {
        var user = await LoginAsync();
        var path = Path.Combine(ConfigFolder, Credentials.FileName);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(ConfigFolder));
        Assert.DoesNotContain("correct horse", await File.ReadAllTextAsync(path), StringComparison.Ordinal);

        var created = await user.PostAsJsonAsync("/api/keys", new { name = "cli", scopes = new[] { "tasks:read", "tasks:write" } });
        var key = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString()!;
        var (code, _, error) = await RunAsync(["login", "--server", server.App.BaseAddress.ToString(), "--api-key", key]);
        Assert.True(code == 0, error);
        Assert.Contains(key, await File.ReadAllTextAsync(path), StringComparison.Ordinal);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));

        await user.UploadOkAsync(AudioSamples.Get("mp3", 1), "keyed.mp3", "wav");
        var (listCode, list, _) = await RunAsync(["list"]);
        Assert.Equal(0, listCode);
        Assert.Contains("keyed.mp3", list, StringComparison.Ordinal);

        var (badCode, _, badError) = await RunAsync(["login", "--server", server.App.BaseAddress.ToString(), "--api-key", key[..^2]]);
        Assert.Equal(1, badCode);
        Assert.Contains("incomplete", badError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Convert_turns_a_folder_of_mixed_files_into_the_format_next_to_the_inputs_and_never_overwrites_without_force()
    {
        var user = await LoginAsync();
        var folder = Folder(("a.mp3", AudioSamples.Get("mp3", 1)), ("b.ogg", AudioSamples.Get("ogg", 1)), ("sub/c.wav", AudioSamples.Get("wav", 1)),
            ("d.m4a", AudioSamples.Get("m4a", 1)), ("notes.txt", "not audio"u8.ToArray()));

        var (code, output, error) = await RunAsync(["convert", folder, "--to", "flac", "--option", "sampleRate=44100", "--jobs", "3"]);
        Assert.True(code == 0, output + error);
        Assert.Contains("4 converted, 0 failed.", output, StringComparison.Ordinal);
        foreach (var name in new[] { "a.flac", "b.flac", "sub/c.flac", "d.flac" })
        {
            var (format, codec, duration) = AudioSamples.Probe(await File.ReadAllBytesAsync(Path.Combine(folder, name)), "flac");
            Assert.Equal(("flac", "flac"), (format, codec));
            Assert.InRange(duration, 0.9, 1.2);
        }

        Assert.False(File.Exists(Path.Combine(folder, "notes.flac")));
        Assert.Equal(4, (await user.GetFromJsonAsync<List<TaskResponse>>("/api/tasks", AudioConverter.Tests.Fixtures.ApiClient.Json))!.Count);

        // A second run refuses to overwrite; --force does, and into --out when asked.
        File.WriteAllText(Path.Combine(folder, "a.flac"), "mine");
        var (again, againOutput, _) = await RunAsync(["convert", Path.Combine(folder, "a.mp3"), "--to", "flac", "--option", "sampleRate=44100"]);
        Assert.Equal(1, again);
        Assert.Contains("exists; pass --force", againOutput, StringComparison.Ordinal);
        Assert.Equal("mine", File.ReadAllText(Path.Combine(folder, "a.flac")));

        var (forced, forcedOutput, _) = await RunAsync(["convert", Path.Combine(folder, "a.mp3"), "--to", "flac", "--option", "sampleRate=44100", "--force"]);
        Assert.True(forced == 0, forcedOutput);
        Assert.Equal("fLaC", Encoding.ASCII.GetString(File.ReadAllBytes(Path.Combine(folder, "a.flac")), 0, 4));

        // The same file with the same options is the same idempotency key: the server answered with the first task again.
        Assert.Equal(4, (await user.GetFromJsonAsync<List<TaskResponse>>("/api/tasks", AudioConverter.Tests.Fixtures.ApiClient.Json))!.Count);

        var outFolder = Path.Combine(home, "out");
        var (intoOut, intoOutput, _) = await RunAsync(["convert", Path.Combine(folder, "b.ogg"), "--to", "mp3", "--out", outFolder]);
        Assert.True(intoOut == 0, intoOutput);
        Assert.Equal("mp3", AudioSamples.Probe(await File.ReadAllBytesAsync(Path.Combine(outFolder, "b.mp3")), "mp3").Codec);
    }

    [Fact]
    public async Task A_file_that_fails_to_convert_is_reported_and_the_exit_code_is_non_zero()
    {
        await LoginAsync();
        var video = Path.Combine(home, "silent.webm");
        AudioSamples.Run("ffmpeg", ["-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=duration=1:size=64x64:rate=5", "-c:v", "libvpx", video]);
        var folder = Folder(("good.wav", AudioSamples.Get("wav", 1)), ("silent.webm", File.ReadAllBytes(video)), ("fake.mp3", "plain text, not audio"u8.ToArray()));

        var (code, output, _) = await RunAsync(["convert", folder, "--to", "mp3"]);
        Assert.Equal(1, code);
        Assert.Contains("1 converted, 2 failed.", output, StringComparison.Ordinal);
        Assert.Contains("silent.webm: The file has no audio stream to convert.", output, StringComparison.Ordinal);
        Assert.Contains("fake.mp3:", output, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(folder, "good.mp3")));

        var (usage, _, usageError) = await RunAsync(["convert", folder]);
        Assert.Equal(2, usage);
        Assert.Contains("--to FORMAT", usageError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_rerun_after_ctrl_c_follows_the_same_tasks_instead_of_uploading_again()
    {
        var user = await LoginAsync();
        var folder = Folder(("one.wav", AudioSamples.Get("wav", 1)), ("two.wav", AudioSamples.Get("wav", 2)), ("three.wav", AudioSamples.Get("wav", 3)));

        using var interrupt = new CancellationTokenSource();
        var watcher = new CancelOnText("uploaded as task", interrupt);
        var (code, _, _) = await RunAsync(["convert", folder, "--to", "ogg", "--jobs", "1"], watcher, cancellationToken: interrupt.Token);
        Assert.Equal(130, code);
        var before = (await user.GetFromJsonAsync<List<TaskResponse>>("/api/tasks", AudioConverter.Tests.Fixtures.ApiClient.Json))!;
        Assert.Single(before);
        Assert.Single(JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(ConfigFolder, ConvertState.FileName))).RootElement.EnumerateObject());

        var (rerun, output, error) = await RunAsync(["convert", folder, "--to", "ogg", "--jobs", "2"]);
        Assert.True(rerun == 0, output + error);
        var after = (await user.GetFromJsonAsync<List<TaskResponse>>("/api/tasks", AudioConverter.Tests.Fixtures.ApiClient.Json))!;
        Assert.Equal(3, after.Count);
        Assert.Contains(after, t => t.Id == before[0].Id);
        Assert.Contains($"uploaded as task {before[0].Id}", output, StringComparison.Ordinal);
        Assert.Empty(JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(ConfigFolder, ConvertState.FileName))).RootElement.EnumerateObject());
    }

    [Fact]
    public async Task Status_download_and_delete_work_by_task_id()
    {
        var user = await LoginAsync();
        var task = await user.UploadOkAsync(AudioSamples.Get("mp3", 1), "song.mp3", "wav");
        await user.WaitForTaskAsync(task.Id);
        var id = task.Id.ToString(System.Globalization.CultureInfo.InvariantCulture);

        var (statusCode, status, _) = await RunAsync(["status", id]);
        Assert.Equal(0, statusCode);
        Assert.Contains("processed", status, StringComparison.Ordinal);

        var outFolder = Path.Combine(home, "downloads");
        Assert.Equal(0, (await RunAsync(["download", id, "--out", outFolder])).Code);
        Assert.Equal("pcm_s16le", AudioSamples.Probe(await File.ReadAllBytesAsync(Path.Combine(outFolder, "song.wav")), "wav").Codec);
        var (again, _, againError) = await RunAsync(["download", id, "--out", outFolder]);
        Assert.Equal(1, again);
        Assert.Contains("--force", againError, StringComparison.Ordinal);

        Assert.Equal(0, (await RunAsync(["delete", id])).Code);
        var (gone, _, goneError) = await RunAsync(["status", id]);
        Assert.Equal(1, gone);
        Assert.Contains("no task", goneError, StringComparison.Ordinal);
        Assert.Equal(2, (await RunAsync(["status", "abc"])).Code);
        Assert.Equal(2, (await RunAsync(["frobnicate"])).Code);
    }

    [Fact]
    public async Task Convert_follows_the_event_stream_and_its_options_or_preset_take_effect_and_a_failed_file_fails_the_run()
    {
        await LoginAsync();
        var folder = Folder(("a.mp3", AudioSamples.Get("mp3", 2)), ("b.ogg", AudioSamples.Get("ogg", 2)), ("sub/c.wav", AudioSamples.Get("wav", 2)),
            ("d.m4a", AudioSamples.Get("m4a", 2)), ("broken.mp3", "plain text, not audio"u8.ToArray()));
        Assert.Equal(("flac", 44100, 2), ProbeStream(AudioSamples.PathOf("flac", 1)));

        using var requests = new RecordingHandler();
        var (code, output, error) = await RunAsync(["convert", folder, "--to", "flac", "--option", "sampleRate=22050", "--option", "channels=1", "--jobs", "2"], handler: requests);
        Assert.True(code == 1, output + error);
        Assert.Contains("4 converted, 1 failed.", output, StringComparison.Ordinal);
        Assert.Contains("broken.mp3:", output, StringComparison.Ordinal);
        foreach (var name in new[] { "a.flac", "b.flac", "sub/c.flac", "d.flac" })
        {
            Assert.Equal(("flac", 22050, 1), ProbeStream(Path.Combine(folder, name)));
        }

        // The conversion percent came from the one event stream: no task was polled.
        Assert.Matches(@"a\.mp3: converting \d+%", output);
        Assert.Single(requests.Seen, r => r == "GET /api/events");
        Assert.DoesNotContain(requests.Seen, r => System.Text.RegularExpressions.Regex.IsMatch(r, @"^GET /api/tasks/\d+$"));

        // A preset alone: its format (wav, without --to), its sample rate and channels, without any --option.
        var outFolder = Path.Combine(home, "telephony");
        var (presetCode, presetOutput, presetError) = await RunAsync(["convert", Path.Combine(folder, "a.mp3"), Path.Combine(folder, "d.m4a"), "--preset", "telephony", "--out", outFolder]);
        Assert.True(presetCode == 0, presetOutput + presetError);
        Assert.Contains("2 converted, 0 failed.", presetOutput, StringComparison.Ordinal);
        Assert.Equal(("pcm_s16le", 8000, 1), ProbeStream(Path.Combine(outFolder, "a.wav")));
        Assert.Equal(("pcm_s16le", 8000, 1), ProbeStream(Path.Combine(outFolder, "d.wav")));

        var (unknown, unknownOutput, _) = await RunAsync(["convert", Path.Combine(folder, "b.ogg"), "--to", "wav", "--preset", "no such preset", "--out", outFolder]);
        Assert.Equal(1, unknown);
        Assert.Contains("0 converted, 1 failed.", unknownOutput, StringComparison.Ordinal);

        // Without --to, an unknown preset names no format: wrong usage, nothing uploaded.
        var (noFormat, _, noFormatError) = await RunAsync(["convert", Path.Combine(folder, "b.ogg"), "--preset", "no such preset", "--out", outFolder]);
        Assert.Equal(2, noFormat);
        Assert.Contains("no preset named 'no such preset'", noFormatError, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(outFolder, "b.wav")));
    }

    private static (string Codec, int SampleRate, int Channels) ProbeStream(string path)
    {
        var json = AudioSamples.Run("ffprobe", ["-v", "error", "-select_streams", "a:0", "-show_entries", "stream=codec_name,sample_rate,channels", "-of", "json", path]);
        var stream = JsonDocument.Parse(json).RootElement.GetProperty("streams")[0];
        return (stream.GetProperty("codec_name").GetString()!, int.Parse(stream.GetProperty("sample_rate").GetString()!, System.Globalization.CultureInfo.InvariantCulture), stream.GetProperty("channels").GetInt32());
    }

    /// <summary>The CLI's requests, as "METHOD /path", over a real socket handler.</summary>
    private sealed class RecordingHandler() : DelegatingHandler(new SocketsHttpHandler())
    {
        private readonly System.Collections.Concurrent.ConcurrentQueue<string> seen = new();

        public IReadOnlyList<string> Seen => [.. seen];

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            seen.Enqueue($"{request.Method} {request.RequestUri!.AbsolutePath}");
            return base.SendAsync(request, cancellationToken);
        }
    }

    /// <summary>Stands in for Ctrl-C: cancels when the CLI prints the given text.</summary>
    private sealed class CancelOnText(string text, CancellationTokenSource source) : StringWriter
    {
        public override void WriteLine(string? value)
        {
            base.WriteLine(value);
            if (value?.Contains(text, StringComparison.Ordinal) == true)
            {
                source.Cancel();
            }
        }
    }
}
