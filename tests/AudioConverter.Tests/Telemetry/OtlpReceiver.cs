using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace AudioConverter.Tests.Telemetry;

/// <summary>One span as an OTLP collector receives it.</summary>
public sealed record ReceivedSpan(string Service, string TraceId, string SpanId, string ParentSpanId, string Name, int Kind, IReadOnlyDictionary<string, string> Attributes);

/// <summary>
/// A tiny OTLP/HTTP collector on a loopback port: it accepts POST /v1/traces (and /v1/metrics) in protobuf, the
/// exporter's real wire format, and decodes the spans with a few lines of protobuf wire-format reading.
/// </summary>
public sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly ConcurrentQueue<ReceivedSpan> spans = new();

    private OtlpReceiver(WebApplication app)
    {
        this.app = app;
        app.MapPost("/v1/traces", async (HttpRequest request) =>
        {
            using var buffer = new MemoryStream();
            await request.Body.CopyToAsync(buffer);
            foreach (var span in Decode(buffer.ToArray()))
            {
                spans.Enqueue(span);
            }

            return Results.Bytes([], "application/x-protobuf");
        });
        app.MapPost("/v1/metrics", () => Results.Bytes([], "application/x-protobuf"));
    }

    public Uri Endpoint { get; private set; } = null!;

    public IReadOnlyList<ReceivedSpan> Spans => [.. spans];

    public static async Task<OtlpReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        var port = Fixtures.ServerProcess.FreePort();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        var receiver = new OtlpReceiver(builder.Build()) { Endpoint = new Uri($"http://127.0.0.1:{port}") };
        await receiver.app.StartAsync();
        return receiver;
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }

    // ExportTraceServiceRequest: 1 resource_spans { 1 resource { 1 attributes }, 2 scope_spans { 2 spans } }.
    private static IEnumerable<ReceivedSpan> Decode(byte[] body)
    {
        foreach (var resourceSpans in Fields(body).Where(f => f.Number == 1).Select(f => f.Bytes))
        {
            var service = "";
            foreach (var resource in Fields(resourceSpans).Where(f => f.Number == 1))
            {
                service = Attributes(resource.Bytes).GetValueOrDefault("service.name", "");
            }

            foreach (var scopeSpans in Fields(resourceSpans).Where(f => f.Number == 2).Select(f => f.Bytes))
            {
                foreach (var span in Fields(scopeSpans).Where(f => f.Number == 2).Select(f => f.Bytes))
                {
                    var fields = Fields(span).ToList();
                    string Hex(int number) => fields.FirstOrDefault(f => f.Number == number).Bytes is { Length: > 0 } b ? Convert.ToHexStringLower(b) : "";
                    yield return new ReceivedSpan(
                        service,
                        Hex(1),
                        Hex(2),
                        Hex(4),
                        System.Text.Encoding.UTF8.GetString(fields.FirstOrDefault(f => f.Number == 5).Bytes ?? []),
                        (int)fields.FirstOrDefault(f => f.Number == 6).Value,
                        Attributes(span, 9));
                }
            }
        }
    }

    // KeyValue { 1 key, 2 AnyValue { 1 string_value, 2 bool_value, 3 int_value, 4 double_value } }, as text.
    private static Dictionary<string, string> Attributes(byte[] message, int field = 1)
    {
        var attributes = new Dictionary<string, string>();
        foreach (var pair in Fields(message).Where(f => f.Number == field).Select(f => f.Bytes))
        {
            var parts = Fields(pair).ToList();
            var key = System.Text.Encoding.UTF8.GetString(parts.First(p => p.Number == 1).Bytes);
            var value = parts.FirstOrDefault(p => p.Number == 2).Bytes is { } any ? Fields(any).FirstOrDefault() : default;
            attributes[key] = value.Number switch
            {
                1 => System.Text.Encoding.UTF8.GetString(value.Bytes),
                2 or 3 => ((long)value.Value).ToString(System.Globalization.CultureInfo.InvariantCulture),
                4 => BitConverter.Int64BitsToDouble((long)value.Value).ToString(System.Globalization.CultureInfo.InvariantCulture),
                _ => "",
            };
        }

        return attributes;
    }

    private readonly record struct Field(int Number, ulong Value, byte[] Bytes);

    /// <summary>The fields of one protobuf message: varints and fixed numbers as values, length-delimited ones as bytes.</summary>
    private static IEnumerable<Field> Fields(byte[] message)
    {
        var position = 0;
        while (position < message.Length)
        {
            var tag = Varint(message, ref position);
            var number = (int)(tag >> 3);
            switch (tag & 7)
            {
                case 0:
                    yield return new Field(number, Varint(message, ref position), []);
                    break;
                case 1:
                    yield return new Field(number, BitConverter.ToUInt64(message, position), []);
                    position += 8;
                    break;
                case 2:
                    var length = (int)Varint(message, ref position);
                    yield return new Field(number, 0, message[position..(position + length)]);
                    position += length;
                    break;
                case 5:
                    yield return new Field(number, BitConverter.ToUInt32(message, position), []);
                    position += 4;
                    break;
                default:
                    throw new InvalidDataException($"Unexpected protobuf wire type {tag & 7} at byte {position}.");
            }
        }
    }

    private static ulong Varint(byte[] data, ref int position)
    {
        ulong value = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = data[position++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }
    }
}
