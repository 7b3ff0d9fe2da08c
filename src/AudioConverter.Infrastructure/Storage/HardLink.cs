using System.Runtime.InteropServices;

namespace AudioConverter.Infrastructure.Storage;

/// <summary>
/// A second name for a file on the same Linux filesystem (link(2)), so a local copy of a large output costs nothing
/// but a directory entry. Safe as a copy in the local store because no blob is ever written in place: every write
/// goes to a temporary file renamed over the key, which replaces the name, not the shared bytes.
/// </summary>
internal static class HardLink
{
    private const int AtCurrentDirectory = -100;
    private const int NoSuchFile = 2;

    /// <summary>
    /// Links <paramref name="existing"/> as <paramref name="created"/>, after setting its modification time to now
    /// (the two names share it, and the orphan scan must see the new name as new). False when the filesystem or
    /// platform cannot link (the caller copies the bytes instead); <paramref name="missing"/> says the source is gone.
    /// </summary>
    public static bool TryCreate(string existing, string created, out bool missing)
    {
        missing = false;
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }

        if (Touch(AtCurrentDirectory, existing, IntPtr.Zero, 0) != 0 || Link(existing, created) != 0)
        {
            missing = Marshal.GetLastPInvokeError() == NoSuchFile;
            return false;
        }

        return true;
    }

    [DllImport("libc", EntryPoint = "link", SetLastError = true, CharSet = CharSet.Ansi, BestFitMapping = false, ThrowOnUnmappableChar = true)]
    private static extern int Link(string existing, string created);

    /// <summary>utimensat(2) with no times: both set to now.</summary>
    [DllImport("libc", EntryPoint = "utimensat", SetLastError = true, CharSet = CharSet.Ansi, BestFitMapping = false, ThrowOnUnmappableChar = true)]
    private static extern int Touch(int directory, string path, IntPtr times, int flags);
}
