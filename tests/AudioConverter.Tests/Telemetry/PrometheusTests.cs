using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using AudioConverter.Tests.Contracts;
using AudioConverter.Tests.Faults;
using AudioConverter.Tests.Fixtures;

namespace AudioConverter.Tests.Telemetry;

/// <summary>
/// The built server as a real process, scraped by a real Prometheus (scripts/services/prometheus.sh): the test
/// registers the server as a target, converts a file, and reads the conversion's metrics back over Prometheus's
/// HTTP API, so names, labels and values are checked the way an operator's dashboard would see them.
/// </summary>
public sealed class PrometheusTests
{
    private static string Prometheus => ExternalServices.Require("AC_TEST_PROMETHEUS", "Prometheus");

    private static string Targets => ExternalServices.Require("AC_TEST_PROMETHEUS_TARGETS", "Prometheus's targets folder");

    [Fact]
    public async Task PrometheusScrapesAConversionsMetricsFromTheServer()
    {
        var run = Guid.NewGuid().ToString("N");
        await using var server = await ServerProcess.StartAsync(ServerProcess.NewDataDirectory(), new Dictionary<string, string> { ["Admission__RefreshSeconds"] = "1" });
        var target = Path.Combine(Targets, $"{run}.json");
        await File.WriteAllTextAsync(target + ".tmp", JsonSerializer.Serialize(new[] { new { targets = new[] { $"127.0.0.1:{server.Port}" }, labels = new Dictionary<string, string> { ["run"] = run } } }));
        File.Move(target + ".tmp", target);
        try
        {
            using var prometheus = new HttpClient { BaseAddress = new Uri(Prometheus), Timeout = TimeSpan.FromSeconds(10) };
            using var anonymous = server.CreateClient();
            var client = await anonymous.NewUserAsync(server.CreateClient);
            var audio = AudioSamples.Get("mp3", 3);
            var task = await client.UploadOkAsync(audio, "song.mp3", "flac");
            var done = await client.WaitForTaskAsync(task.Id);
            Assert.Equal("processed", done.Status);

            var selector = $"run=\"{run}\"";
            await UntilValueAsync(prometheus, $"audioconverter_conversions_total{{{selector},target=\"flac\",outcome=\"processed\"}}", v => v == 1);
            await UntilValueAsync(prometheus, $"audioconverter_uploads_total{{{selector}}}", v => v == 1);
            await UntilValueAsync(prometheus, $"audioconverter_upload_size_bytes_total{{{selector}}}", v => v == done.InputBytes);
            await UntilValueAsync(prometheus, $"audioconverter_conversion_duration_seconds_count{{{selector},target=\"flac\",outcome=\"processed\"}}", v => v == 1);

            // 3 s of audio converted: the realtime factor is the audio's length over the conversion's own seconds.
            var seconds = await UntilValueAsync(prometheus, $"audioconverter_conversion_duration_seconds_sum{{{selector},target=\"flac\"}}", v => v is > 0 and < 60);
            await UntilValueAsync(prometheus, $"audioconverter_conversion_realtime_factor_sum{{{selector},target=\"flac\"}}", v => Math.Abs(v - (done.DurationSeconds!.Value / seconds)) < 0.05 * v);

            // The backlog gauges come from the database: nothing is waiting once the task is processed.
            await UntilValueAsync(prometheus, $"audioconverter_queue_depth{{{selector}}}", v => v == 0);
            await UntilValueAsync(prometheus, $"audioconverter_queue_oldest_age_seconds{{{selector}}}", v => v == 0);

            // Requests, from the ASP.NET Core instrumentation, by route and answer.
            await UntilValueAsync(prometheus, $"sum(http_server_request_duration_seconds_count{{{selector},http_route=\"/api/tasks/\",http_request_method=\"POST\",http_response_status_code=\"201\"}})", v => v == 1);
        }
        finally
        {
            File.Delete(target);
        }
    }

    /// <summary>Polls an instant query until it has one series whose value satisfies the condition; returns that value.</summary>
    private static async Task<double> UntilValueAsync(HttpClient prometheus, string query, Func<double, bool> condition)
    {
        double? last = null;
        await Deadline.UntilAsync(
            async () =>
            {
                var answer = await prometheus.GetFromJsonAsync<JsonElement>($"/api/v1/query?query={Uri.EscapeDataString(query)}");
                Assert.Equal("success", answer.GetProperty("status").GetString());
                var result = answer.GetProperty("data").GetProperty("result");
                if (result.GetArrayLength() != 1)
                {
                    return false;
                }

                last = double.Parse(result[0].GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture);
                return condition(last.Value);
            },
            TimeSpan.FromSeconds(30),
            $"Prometheus to answer {query} with a matching value (last: {last?.ToString(CultureInfo.InvariantCulture) ?? "no single series"})");
        return last!.Value;
    }
}
