using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Actors.Log.Storage;

/// <summary>The sparse index of one segment, in Kafka's file formats: an offset index (<c>.index</c>, 8-byte
/// entries: relative offset int32, file position int32) or a time index (<c>.timeindex</c>, 12-byte entries:
/// timestamp int64, relative offset int32), all big-endian.</summary>
/// <remarks>
/// <para>Entries live in native memory laid out exactly as in the file, so writing the file is a plain copy. The
/// block is reserved once at the segment's maximum entry count (like Kafka's preallocated, memory-mapped index
/// files, sized by <c>segment.index.bytes</c>); the operating system commits pages only as entries are written,
/// so the append path never allocates. The file is written on flush, roll and close; after a crash the index is
/// rebuilt from the log.</para>
/// <para>One writer appends and truncates; readers may search concurrently. The writer stores an entry and then
/// publishes the count with a volatile write; readers read the count first. The memory is freed only by
/// <see cref="Dispose"/>, which the owning log calls under its exclusive lock, so no reader can be inside.</para>
/// </remarks>
internal sealed unsafe class SegmentIndex : IDisposable
{
    private readonly object _fileLock = new();
    private byte* _data;
    private int _capacity;
    private int _count;
    private int _persisted;
    private bool _fileNeedsTrim;

    public SegmentIndex(string path, bool isTimeIndex, int maxEntries)
    {
        FilePath = path;
        IsTimeIndex = isTimeIndex;
        MaxEntries = Math.Max(1, maxEntries);
    }

    public string FilePath { get; }

    public bool IsTimeIndex { get; }

    /// <summary>Entries the index may hold before the segment must roll.</summary>
    public int MaxEntries { get; }

    public int EntrySize => IsTimeIndex ? 12 : 8;

    public int Count => Volatile.Read(ref _count);

    /// <summary>Entries that can still be added.</summary>
    public int Remaining => MaxEntries - _count;

    /// <summary>Key of the last entry (relative offset or timestamp), or -1.</summary>
    public long LastKey
    {
        get
        {
            int n = Count;
            return n == 0 ? -1 : KeyAt(n - 1);
        }
    }

    /// <summary>Value of the last entry (position or relative offset), or -1.</summary>
    public int LastValue
    {
        get
        {
            int n = Count;
            return n == 0 ? -1 : ValueAt(n - 1);
        }
    }

    private ReadOnlySpan<byte> Entry(int i) => new(_data + ((long)i * EntrySize), EntrySize);

    public long KeyAt(int i) => IsTimeIndex ? BinaryPrimitives.ReadInt64BigEndian(Entry(i)) : BinaryPrimitives.ReadInt32BigEndian(Entry(i));

    public int ValueAt(int i) => BinaryPrimitives.ReadInt32BigEndian(Entry(i).Slice(IsTimeIndex ? 8 : 4));

    /// <summary>Adds an entry; the writer guarantees the key is above the last one and that
    /// <see cref="Remaining"/> is positive.</summary>
    public void Append(long key, int value)
    {
        int n = _count;
        if (n >= MaxEntries)
        {
            throw new InvalidOperationException($"Index '{FilePath}' is full ({MaxEntries} entries); the segment should have rolled.");
        }

        EnsureReserved(MaxEntries);
        var e = new Span<byte>(_data + ((long)n * EntrySize), EntrySize);
        if (IsTimeIndex)
        {
            BinaryPrimitives.WriteInt64BigEndian(e, key);
            BinaryPrimitives.WriteInt32BigEndian(e.Slice(8), value);
        }
        else
        {
            BinaryPrimitives.WriteInt32BigEndian(e, (int)key);
            BinaryPrimitives.WriteInt32BigEndian(e.Slice(4), value);
        }

        Volatile.Write(ref _count, n + 1);
    }

    /// <summary>Index of the last entry whose key is at most <paramref name="key"/>, or -1.</summary>
    public int FloorIndex(long key)
    {
        int lo = 0;
        int hi = Count - 1;
        int found = -1;
        while (lo <= hi)
        {
            int mid = (int)((uint)(lo + hi) >> 1);
            if (KeyAt(mid) <= key)
            {
                found = mid;
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }

        return found;
    }

    /// <summary>Removes entries from the last backwards while their key (or, with <paramref name="byValue"/>,
    /// value) is at least <paramref name="limit"/>.</summary>
    public void TruncateFrom(long limit, bool byValue)
    {
        int n = _count;
        int keep = n;
        while (keep > 0 && (byValue ? ValueAt(keep - 1) : KeyAt(keep - 1)) >= limit)
        {
            keep--;
        }

        if (keep != n)
        {
            Volatile.Write(ref _count, keep);
            lock (_fileLock)
            {
                if (keep < _persisted)
                {
                    _persisted = keep;
                    _fileNeedsTrim = true;
                }
            }
        }
    }

    public void Clear()
    {
        Volatile.Write(ref _count, 0);
        lock (_fileLock)
        {
            _persisted = 0;
            _fileNeedsTrim = true;
        }
    }

    /// <summary>Writes entries not yet in the file and trims the file to the entry count; fsyncs when asked.
    /// Returns true when this created the file, so the caller knows its directory changed.</summary>
    public bool WriteOut(bool flushToDisk)
    {
        lock (_fileLock)
        {
            int n = Count;
            bool exists = File.Exists(FilePath);
            if (n == _persisted && !_fileNeedsTrim && !flushToDisk && exists)
            {
                return false;
            }

            using SafeFileHandle handle = File.OpenHandle(FilePath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
            int size = EntrySize;
            if (n > _persisted)
            {
                long start = (long)_persisted * size;
                long length = ((long)n * size) - start;
                while (length > 0)
                {
                    int chunk = (int)Math.Min(length, 1 << 30);
                    RandomAccess.Write(handle, new ReadOnlySpan<byte>(_data + start, chunk), start);
                    start += chunk;
                    length -= chunk;
                }
            }

            if (RandomAccess.GetLength(handle) != (long)n * size)
            {
                RandomAccess.SetLength(handle, (long)n * size);
            }

            _persisted = n;
            _fileNeedsTrim = false;
            if (flushToDisk)
            {
                RandomAccess.FlushToDisk(handle);
            }

            return !exists;
        }
    }

    /// <summary>Loads the file's entries. Returns false (and leaves the index empty) when the file is missing,
    /// has a partial entry, holds more than <see cref="MaxEntries"/> or its keys and values do not increase as
    /// they must. <paramref name="reserveFull"/> reserves room for appends (for the active segment).</summary>
    public bool TryLoad(int logSize, bool reserveFull)
    {
        Clear();
        if (!File.Exists(FilePath))
        {
            return false;
        }

        byte[] bytes = File.ReadAllBytes(FilePath);
        int size = EntrySize;
        if (bytes.Length % size != 0 || bytes.Length / size > MaxEntries)
        {
            return false;
        }

        int n = bytes.Length / size;
        long prevKey = long.MinValue;
        long prevValue = long.MinValue;
        for (int i = 0; i < n; i++)
        {
            ReadOnlySpan<byte> e = bytes.AsSpan(i * size, size);
            long key = IsTimeIndex ? BinaryPrimitives.ReadInt64BigEndian(e) : BinaryPrimitives.ReadInt32BigEndian(e);
            int value = BinaryPrimitives.ReadInt32BigEndian(e.Slice(IsTimeIndex ? 8 : 4));
            bool ok = IsTimeIndex
                ? key > prevKey && value >= 0 && value >= prevValue
                : key >= 0 && key > prevKey && value >= 0 && value > prevValue && value < logSize;
            if (!ok)
            {
                return false;
            }

            prevKey = key;
            prevValue = value;
        }

        EnsureReserved(reserveFull ? MaxEntries : Math.Max(n, 1));
        bytes.CopyTo(new Span<byte>(_data, bytes.Length));
        Volatile.Write(ref _count, n);
        lock (_fileLock)
        {
            _persisted = n;
            _fileNeedsTrim = false;
        }

        return true;
    }

    /// <summary>Makes sure room for <paramref name="entries"/> is reserved; only grows before any reader can
    /// see the index (at load) or when nothing is reserved yet.</summary>
    public void EnsureReserved(int entries)
    {
        if (_capacity >= entries)
        {
            return;
        }

        nuint bytes = (nuint)entries * (nuint)EntrySize;
        byte* fresh = (byte*)NativeMemory.Alloc(bytes);
        if (_data is not null)
        {
            Buffer.MemoryCopy(_data, fresh, (long)bytes, (long)_count * EntrySize);
            NativeMemory.Free(_data);
        }

        _data = fresh;
        _capacity = entries;
    }

    /// <summary>Shrinks the reservation to the current entries (at least one); only while no reader can see the index.</summary>
    public void Compact()
    {
        int n = Math.Max(_count, 1);
        if (_data is null || _capacity == n)
        {
            return;
        }

        byte* fresh = (byte*)NativeMemory.Alloc((nuint)n * (nuint)EntrySize);
        Buffer.MemoryCopy(_data, fresh, (long)n * EntrySize, (long)_count * EntrySize);
        NativeMemory.Free(_data);
        _data = fresh;
        _capacity = n;
    }

    public void Delete()
    {
        lock (_fileLock)
        {
            File.Delete(FilePath);
            _persisted = 0;
        }
    }

    public void Dispose()
    {
        if (_data is not null)
        {
            NativeMemory.Free(_data);
            _data = null;
            _capacity = 0;
            Volatile.Write(ref _count, 0);
        }
    }
}
