using System.Globalization;
using System.IO.Compression;
using AudioConverter.Core.Storage;
using AudioConverter.Core.Tasks;
using AudioConverter.Infrastructure.Data;
using AudioConverter.Server.Auth;
using AudioConverter.Server.Hosting;
using AudioConverter.Server.Tasks;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace AudioConverter.Server.Files;

/// <summary>
/// <c>GET /api/tasks/archive?ids=1,2,3</c>: the converted files of several tasks as one ZIP, written entry by entry
/// straight from the blob store to the response (stored entries, nothing built in memory or on disk first).
/// </summary>
public static class ArchiveEndpoints
{
    public const int MaxTasks = 200;

    public static IEndpointRouteBuilder MapArchiveEndpoints(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/api/tasks/archive", ArchiveAsync).WithTags("Files").RequireAuthorization()
            .WithSummary($"Download the converted files of up to {MaxTasks} processed tasks as one ZIP (ids=1,2,3)");
        return routes;
    }

    private static async Task<Results<PushStreamHttpResult, ValidationProblem, ProblemHttpResult>> ArchiveAsync(
        string? ids, CurrentUser user, HttpContext context, AppDbContext db, IBlobStore blobs, CancellationToken cancellationToken)
    {
        var wanted = new List<long>();
        foreach (var part in (ids ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (!long.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var id) || id < 1)
            {
                return Problems.Validation("ids", $"'ids' must be task ids separated by commas, e.g. ids=1,2,3; '{Shorten(part)}' is not one.");
            }

            if (!wanted.Contains(id))
            {
                wanted.Add(id);
            }
        }

        if (wanted.Count is 0 or > MaxTasks)
        {
            return Problems.Validation("ids", $"'ids' must name 1 to {MaxTasks} tasks, e.g. ids=1,2,3; got {wanted.Count}.");
        }

        var tasks = await db.Tasks.AsNoTracking().OwnedBy(user).Where(t => wanted.Contains(t.Id)).ToListAsync(cancellationToken);
        if (wanted.Except(tasks.Select(t => t.Id)).ToList() is { Count: > 0 } missing)
        {
            return TypedResults.Problem($"No task with the id {string.Join(", ", missing)} exists for this account.", statusCode: StatusCodes.Status404NotFound, title: "Not found.", type: Problems.NotFoundType);
        }

        if (tasks.Where(t => t.Status != ConversionStatus.Processed || t.OutputKey is null).Select(t => t.Id).ToList() is { Count: > 0 } unready)
        {
            return Problems.Conflict($"Task {string.Join(", ", unready)} has no converted file yet (not processed); leave it out or wait until it is processed.");
        }

        var ordered = wanted.Select(id => tasks.First(t => t.Id == id)).ToList();
        var names = EntryNames(ordered);
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        return TypedResults.Stream(async response =>
        {
            var body = new SmallSyncWritesStream(response);
            await using (var zip = await ZipArchive.CreateAsync(body, ZipArchiveMode.Create, leaveOpen: true, entryNameEncoding: null, cancellationToken))
            {
                await WriteEntriesAsync(zip, ordered, names, blobs, cancellationToken);
            }

            await body.FlushAsync(cancellationToken);
        }, "application/zip", $"audioconverter-{ordered.Count}-files.zip");
    }

    private static async Task WriteEntriesAsync(ZipArchive zip, List<ConversionTask> ordered, List<string> names, IBlobStore blobs, CancellationToken cancellationToken)
    {
            for (var i = 0; i < ordered.Count; i++)
            {
                var task = ordered[i];
                await using var source = await blobs.OpenReadAsync(task.OutputKey!, cancellationToken)
                    ?? throw new FileNotFoundException($"The converted file of task {task.Id} is gone from the store; the archive is cut short.");
                var entry = zip.CreateEntry(names[i], CompressionLevel.NoCompression);
                entry.LastWriteTime = new DateTimeOffset(DateTime.SpecifyKind(task.ProcessedAt ?? task.UpdatedAt, DateTimeKind.Utc));
                await using var target = await entry.OpenAsync(cancellationToken);
                await source.CopyToAsync(target, 81920, cancellationToken);
            }
    }

    /// <summary>Each task's download name, made unique within the archive with " (2)", " (3)"...</summary>
    internal static List<string> EntryNames(IEnumerable<ConversionTask> tasks)
    {
        var used = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var names = new List<string>();
        foreach (var task in tasks)
        {
            var name = DisplayName.WithExtension(task.FileName, AudioFormat.Find(task.NewFormat)?.Extension ?? task.NewFormat);
            var candidate = name;
            for (var n = 2; !used.Add(candidate); n++)
            {
                candidate = $"{Path.GetFileNameWithoutExtension(name)} ({n}){Path.GetExtension(name)}";
            }

            names.Add(candidate);
        }

        return names;
    }

    private static string Shorten(string value) => value.Length > 20 ? value[..20] + "..." : value;

    /// <summary>
    /// ZipArchive writes its small records (an entry's data descriptor, the central directory) synchronously even in its async
    /// API; the server allows only asynchronous writes. Those few bytes wait here and go out with the next asynchronous write.
    /// </summary>
    private sealed class SmallSyncWritesStream(Stream inner) : Stream
    {
        private const int MaxPending = 4 * 1024 * 1024;
        private readonly MemoryStream pending = new();

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            if (pending.Length + buffer.Length > MaxPending)
            {
                throw new InvalidOperationException("The archive's synchronous writes grew past their bound.");
            }

            pending.Write(buffer);
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await FlushPendingAsync(cancellationToken);
            await inner.WriteAsync(buffer, cancellationToken);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override async Task FlushAsync(CancellationToken cancellationToken)
        {
            await FlushPendingAsync(cancellationToken);
            await inner.FlushAsync(cancellationToken);
        }

        public override void Flush()
        {
            // Nothing synchronous reaches the response; FlushAsync sends what waits.
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            pending.Dispose();
            base.Dispose(disposing);
        }

        private async Task FlushPendingAsync(CancellationToken cancellationToken)
        {
            if (pending.Length > 0)
            {
                await inner.WriteAsync(pending.GetBuffer().AsMemory(0, (int)pending.Length), cancellationToken);
                pending.SetLength(0);
            }
        }
    }
}
