using System.Collections.Concurrent;
using AudioConverter.Infrastructure.Data;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace AudioConverter.Server.Tasks;

/// <summary>
/// Answers of GET /api/tasks kept as their UTF-8 bytes, on SQLite only, so that a listing nothing has changed since
/// reads no table, builds no DbContext and serialises nothing. Validity comes from SQLite's <c>PRAGMA data_version</c>
/// (https://sqlite.org/pragma.html#pragma_data_version) read on one connection of its own that never writes: its value
/// changes whenever any other connection, of this process or another, has committed to the file since the last read.
/// Every answer is tagged with the value read BEFORE its page was read; a page read after the value reflects that state
/// or a later one, and if the value is still the same at the next request nothing committed in between, so the page is
/// exactly the current state. Any commit anywhere (an upload, the worker's progress, a delete, a second process, a
/// hand-written UPDATE) changes the value, and the whole set of kept answers is dropped with it.
/// PostgreSQL has no cheap equivalent (a per-table change stamp would have to be bumped by every writer, in its
/// transaction): there the listing reads as before.
/// </summary>
public sealed class TaskListCache : IDisposable
{
    /// <summary>Answers kept at most, and their bytes at most, for one database version.</summary>
    internal const int MaxPages = 4096;

    internal const long MaxBytes = 16 * 1024 * 1024;

    /// <summary>An answer larger than this is not kept: a page of 1,000 tasks is built each time, as before.</summary>
    internal const int MaxPageBytes = 64 * 1024;

    private readonly IServiceScopeFactory? scopes;
    private readonly Lock gate = new();
    private Func<long>? readVersion;
    private SqliteConnection? connection;
    private SqliteCommand? versionCommand;
    private bool configured;

    /// <summary>Set once the first listing found nothing to validate by (PostgreSQL): later ones skip the lock.</summary>
    private volatile bool off;
    private Generation current = new(-1);

    /// <summary>Requests that asked for the version so far, and how many of them the last read covered.</summary>
    private long arrivals;

    private long readCovers;

    public TaskListCache(IServiceScopeFactory scopes) => this.scopes = scopes;

    /// <summary>For the unit tests: the version comes from <paramref name="readVersion"/> instead of a database.</summary>
    internal TaskListCache(Func<long> readVersion)
    {
        this.readVersion = readVersion;
        configured = true;
    }

    /// <summary>What a page is looked up and kept by: the authenticated user and the whole query.</summary>
    public readonly record struct Key(long UserId, int Limit, bool NewestFirst, long? Cursor);

    /// <summary>
    /// The database version now, and the answer kept for <paramref name="key"/> at that version if there is one. A
    /// null generation means nothing may be kept (PostgreSQL, or the version could not be read).
    /// </summary>
    public (CachedTaskPage? Page, Generation? Generation) Find(Key key)
    {
        var generation = CurrentGeneration();
        return generation is not null && generation.Pages.TryGetValue(key, out var page) ? (page, generation) : (null, generation);
    }

    /// <summary>Keeps an answer built after <see cref="Find"/> returned <paramref name="generation"/>, within the bounds.</summary>
    public static CachedTaskPage Store(Generation generation, Key key, byte[] body, string? link)
    {
        var page = new CachedTaskPage(body, link);
        if (body.Length <= MaxPageBytes && generation.TryReserve(body.Length))
        {
            generation.Pages.TryAdd(key, page);
        }

        return page;
    }

    public void Dispose()
    {
        lock (gate)
        {
            versionCommand?.Dispose();
            connection?.Dispose();
            versionCommand = null;
            connection = null;
            readVersion = null;
        }
    }

    /// <summary>
    /// The generation of a version read that started after this call did. Requests that arrive while a read runs are
    /// all answered by the next one: the profile of 64 clients showed them queueing on the lock, one read each.
    /// </summary>
    private Generation? CurrentGeneration()
    {
        if (off)
        {
            return null;
        }

        var ticket = Interlocked.Increment(ref arrivals);
        lock (gate)
        {
            if (!configured)
            {
                Configure();
            }

            if (readVersion is null)
            {
                off = true;
                return null;
            }

            // A read that began after this request arrived saw every commit made before it: nothing to read again.
            if (readCovers >= ticket)
            {
                return current;
            }

            var covers = Volatile.Read(ref arrivals);
            long version;
            try
            {
                version = readVersion();
            }
            catch (SqliteException)
            {
                // The read failed (a busy or broken file): this request reads the table as it would without the cache.
                return null;
            }

            // The version only grows on one connection, so a different value is always a newer state: start afresh.
            if (version != current.Version)
            {
                current = new Generation(version);
            }

            readCovers = covers;
            return current;
        }
    }

    /// <summary>Once, on the first listing: the database's kind and file, from the context the app registers.</summary>
    private void Configure()
    {
        configured = true;
        using var scope = scopes!.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        if (!db.Database.IsSqlite())
        {
            return;
        }

        var builder = new SqliteConnectionStringBuilder(db.Database.GetConnectionString());
        // An in-memory database's connections share one cache, whose commits data_version does not see as "another
        // connection's": keep nothing there (tests only; the service always has a file).
        if (builder.DataSource is ":memory:" or "" || builder.Mode == SqliteOpenMode.Memory || builder.Cache == SqliteCacheMode.Shared)
        {
            return;
        }

        builder.Mode = SqliteOpenMode.ReadOnly;
        builder.Pooling = false;
        var opened = new SqliteConnection(builder.ToString());
        try
        {
            opened.Open();
            var command = opened.CreateCommand();
            command.CommandText = "PRAGMA data_version";
            command.Prepare();
            (connection, versionCommand) = (opened, command);
            readVersion = () => (long)command.ExecuteScalar()!;
        }
        catch (SqliteException)
        {
            // No version to validate by: every listing reads the table, as without the cache.
            opened.Dispose();
        }
    }

    /// <summary>The answers kept for one database version; replaced, not cleared, when the version changes.</summary>
    public sealed class Generation(long version)
    {
        private int pages;
        private long bytes;

        public long Version { get; } = version;

        internal ConcurrentDictionary<Key, CachedTaskPage> Pages { get; } = new();

        /// <summary>Room for one more answer of <paramref name="size"/> bytes; false once either bound is reached.</summary>
        internal bool TryReserve(int size)
        {
            if (Interlocked.Increment(ref pages) > MaxPages)
            {
                return false;
            }

            return Interlocked.Add(ref bytes, size) <= MaxBytes;
        }
    }
}

/// <summary>A listing's answer as written: its JSON bytes and its Link header. Kept answers are written as they are.</summary>
public sealed class CachedTaskPage(byte[] body, string? link) : IResult
{
    internal byte[] Body { get; } = body;

    internal string? Link { get; } = link;

    public Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        response.StatusCode = StatusCodes.Status200OK;
        // What Ok<T> writes, so a kept answer cannot be told from a fresh one.
        response.ContentType = "application/json; charset=utf-8";
        response.ContentLength = Body.Length;
        if (Link is not null)
        {
            response.Headers.Link = Link;
        }

        return response.Body.WriteAsync(Body, httpContext.RequestAborted).AsTask();
    }
}
