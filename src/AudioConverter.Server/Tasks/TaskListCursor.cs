using System.Buffers.Binary;
using System.Buffers.Text;

namespace AudioConverter.Server.Tasks;

/// <summary>
/// The opaque 'after' cursor of GET /api/tasks: the last task id of a page, as URL-safe base64 of a version byte and
/// the id. Clients pass it back unchanged; anything else is refused as not a cursor.
/// </summary>
public static class TaskListCursor
{
    private const byte Version = 1;
    private static readonly System.Buffers.SearchValues<char> CursorCharacters =
        System.Buffers.SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");

    public static string Encode(long lastId)
    {
        Span<byte> bytes = stackalloc byte[9];
        bytes[0] = Version;
        BinaryPrimitives.WriteInt64BigEndian(bytes[1..], lastId);
        return Base64Url.EncodeToString(bytes);
    }

    /// <summary>The task id the cursor continues after; null when it is not a cursor this server made.</summary>
    public static long? Decode(string cursor)
    {
        // Nine bytes are exactly twelve base64url characters.
        Span<byte> bytes = stackalloc byte[9];
        if (cursor.Length != 12 || cursor.AsSpan().ContainsAnyExcept(CursorCharacters)
            || !Base64Url.TryDecodeFromChars(cursor, bytes, out var written) || written != 9 || bytes[0] != Version)
        {
            return null;
        }

        var id = BinaryPrimitives.ReadInt64BigEndian(bytes[1..]);
        return id is > 0 and < long.MaxValue ? id : null;
    }
}
