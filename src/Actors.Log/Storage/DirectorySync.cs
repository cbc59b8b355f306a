using System.Runtime.InteropServices;

namespace Actors.Log.Storage;

/// <summary>Makes the entries of a log directory durable, as Kafka's <c>Utils.flushDir</c> does: fsyncing a file
/// puts its bytes on disk but not its name, so a file just created (a rolled segment, its indexes) or renamed into
/// place (a checkpoint) can vanish on a power loss until its parent directory is fsynced too.</summary>
/// <remarks>
/// <para>Callers report each change to the directory with <see cref="MarkChanged"/> (cheap: one interlocked
/// increment) and call <see cref="SyncIfChanged"/> before they report an operation durable; the fsync then runs
/// only when something changed since the last one, so appends and flushes without a roll never pay for it.</para>
/// <para>Thread-safe. A change counter and the value it had when the last successful fsync started decide whether
/// a sync is needed, and syncs run one at a time: a caller returns only once an fsync that began after its own
/// change has completed, even when another thread ran that fsync.</para>
/// <para>.NET has no API for this, so it calls libc's <c>open(O_RDONLY | O_DIRECTORY)</c>, <c>fsync</c> and
/// <c>close</c>. It does nothing on operating systems other than Linux.</para>
/// </remarks>
internal sealed partial class DirectorySync
{
    private const int ORdOnly = 0;
    private const int OCloExec = 0x80000;
    private const int EIntr = 4;

    // O_DIRECTORY differs by architecture: 0x10000 on x86 and x64, 0x4000 on 32- and 64-bit Arm (where 0x10000 is
    // O_DIRECT, which a directory refuses). Elsewhere it is left out: O_RDONLY alone opens a directory as well.
    // O_CLOEXEC (0x80000 on all of these) keeps the descriptor out of child processes started meanwhile.
    private static readonly int OpenFlags = ORdOnly | OCloExec | (RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 or Architecture.X86 => 0x10000,
        Architecture.Arm64 or Architecture.Arm => 0x4000,
        _ => 0,
    });

    private readonly object _syncLock = new();
    private long _changes;
    private long _syncedChanges;
    private long _syncCount;

    public DirectorySync(string path) => Path = path;

    /// <summary>The directory.</summary>
    public string Path { get; }

    /// <summary>fsyncs of the directory done so far (for tests: proves the syncs happen where they must).</summary>
    public long SyncCount => Interlocked.Read(ref _syncCount);

    /// <summary>True when an entry changed since the start of the last successful fsync.</summary>
    public bool HasUnsyncedChanges => Interlocked.Read(ref _changes) != Interlocked.Read(ref _syncedChanges);

    /// <summary>Records that a file in the directory was created, renamed or deleted; call it after the change.</summary>
    public void MarkChanged() => Interlocked.Increment(ref _changes);

    /// <summary>fsyncs the directory when it changed since the last fsync; returns once every change marked before
    /// the call is durable.</summary>
    /// <exception cref="IOException">The directory could not be opened or fsynced; the message says which and why.</exception>
    public void SyncIfChanged()
    {
        long wanted = Interlocked.Read(ref _changes);
        if (Interlocked.Read(ref _syncedChanges) >= wanted)
        {
            return;
        }

        lock (_syncLock)
        {
            if (Interlocked.Read(ref _syncedChanges) >= wanted)
            {
                return;
            }

            // Changes marked from here on may or may not be caught by this fsync, so only those before count.
            long covered = Interlocked.Read(ref _changes);
            if (OperatingSystem.IsLinux())
            {
                FsyncDirectory(Path);
                Interlocked.Increment(ref _syncCount);
            }

            Interlocked.Exchange(ref _syncedChanges, covered);
        }
    }

    private static void FsyncDirectory(string path)
    {
        int fd;
        do
        {
            fd = Open(path, OpenFlags);
        }
        while (fd < 0 && Marshal.GetLastPInvokeError() == EIntr);

        if (fd < 0)
        {
            throw Failure(path, "open", Marshal.GetLastPInvokeError());
        }

        try
        {
            int rc;
            do
            {
                rc = Fsync(fd);
            }
            while (rc != 0 && Marshal.GetLastPInvokeError() == EIntr);

            if (rc != 0)
            {
                throw Failure(path, "fsync", Marshal.GetLastPInvokeError());
            }
        }
        finally
        {
            // A failed close of a read-only descriptor loses nothing (the fsync result is already known), and
            // retrying it on Linux could close a descriptor another thread just opened.
            _ = Close(fd);
        }
    }

    private static IOException Failure(string path, string call, int errno) =>
        new($"Could not fsync the log directory '{path}': {call} failed with errno {errno} ({Marshal.GetPInvokeErrorMessage(errno)}). "
            + "Files created or renamed in it may not survive a power loss.");

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
