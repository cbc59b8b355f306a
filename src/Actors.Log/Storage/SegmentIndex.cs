using System.Buffers.Binary;
using Microsoft.Win32.SafeHandles;

namespace Actors.Log.Storage;

/// <summary>The sparse index of one segment, in Kafka's file formats: an offset index (<c>.index</c>, 8-byte
/// entries: relative offset int32, file position int32) or a time index (<c>.timeindex</c>, 12-byte entries:
/// timestamp int64, relative offset int32). Entries are held in memory and written to the file on flush, roll
/// and close; after a crash they are rebuilt from the log.</summary>
/// <remarks>
/// One writer (the log's append path) adds and truncates entries; readers may search concurrently. The writer
/// stores the entry, then publishes the new count with a volatile write; readers read the count first and then
/// the arrays, so they never see a half-written entry. Truncation runs under the log's exclusive lock.
/// Keys (relative offset, or timestamp) strictly increase; for the offset index positions strictly increase too.
/// </remarks>
internal sealed class SegmentIndex
{
    private readonly object _fileLock = new();
    private long[] _keys;
    private int[] _values;
    private int _count;
    private int _persisted;
    private bool _fileNeedsTrim;

    public SegmentIndex(string path, bool isTimeIndex, int initialCapacity = 64)
    {
        FilePath = path;
        IsTimeIndex = isTimeIndex;
        _keys = new long[Math.Max(4, initialCapacity)];
        _values = new int[_keys.Length];
    }

    public string FilePath { get; private set; }

    public bool IsTimeIndex { get; }

    public int EntrySize => IsTimeIndex ? 12 : 8;

    public int Count => Volatile.Read(ref _count);

    /// <summary>Key of the last entry (relative offset or timestamp), or -1.</summary>
    public long LastKey
    {
        get
        {
            int n = Count;
            return n == 0 ? -1 : _keys[n - 1];
        }
    }

    /// <summary>Value of the last entry (position or relative offset), or -1.</summary>
    public int LastValue
    {
        get
        {
            int n = Count;
            return n == 0 ? -1 : _values[n - 1];
        }
    }

    public long KeyAt(int i) => _keys[i];

    public int ValueAt(int i) => _values[i];

    /// <summary>Adds an entry; the writer guarantees the key is above the last one.</summary>
    public void Append(long key, int value)
    {
        int n = _count;
        if (n == _keys.Length)
        {
            // Publish bigger arrays before the count that needs them.
            var keys = new long[n * 2];
            var values = new int[n * 2];
            Array.Copy(_keys, keys, n);
            Array.Copy(_values, values, n);
            _keys = keys;
            _values = values;
        }

        _keys[n] = key;
        _values[n] = value;
        Volatile.Write(ref _count, n + 1);
    }

    /// <summary>Index of the last entry whose key is at most <paramref name="key"/>, or -1.</summary>
    public int FloorIndex(long key)
    {
        int n = Count;
        long[] keys = _keys;
        int lo = 0;
        int hi = n - 1;
        int found = -1;
        while (lo <= hi)
        {
            int mid = (int)((uint)(lo + hi) >> 1);
            if (keys[mid] <= key)
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

    /// <summary>Removes entries from the first whose key (or, with <paramref name="byValue"/>, value) is at
    /// least <paramref name="limit"/>.</summary>
    public void TruncateFrom(long limit, bool byValue)
    {
        int n = _count;
        int keep = n;
        while (keep > 0 && (byValue ? _values[keep - 1] : _keys[keep - 1]) >= limit)
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

    /// <summary>Writes entries not yet in the file and trims the file to the entry count; fsyncs when asked.</summary>
    public void WriteOut(long baseOffset, bool flushToDisk)
    {
        lock (_fileLock)
        {
            int n = Count;
            if (n == _persisted && !_fileNeedsTrim && !flushToDisk && File.Exists(FilePath))
            {
                return;
            }

            using SafeFileHandle handle = File.OpenHandle(FilePath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
            int size = EntrySize;
            if (n > _persisted)
            {
                const int chunkEntries = 512;
                Span<byte> buffer = stackalloc byte[chunkEntries * 12];
                for (int start = _persisted; start < n; start += chunkEntries)
                {
                    int count = Math.Min(chunkEntries, n - start);
                    for (int i = 0; i < count; i++)
                    {
                        Span<byte> e = buffer.Slice(i * size, size);
                        if (IsTimeIndex)
                        {
                            BinaryPrimitives.WriteInt64BigEndian(e, _keys[start + i]);
                            BinaryPrimitives.WriteInt32BigEndian(e.Slice(8), _values[start + i]);
                        }
                        else
                        {
                            BinaryPrimitives.WriteInt32BigEndian(e, (int)_keys[start + i]);
                            BinaryPrimitives.WriteInt32BigEndian(e.Slice(4), _values[start + i]);
                        }
                    }

                    RandomAccess.Write(handle, buffer.Slice(0, count * size), (long)start * size);
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
        }
    }

    /// <summary>Loads the file's entries. Returns false (and leaves the index empty) when the file is missing,
    /// has a partial entry or its keys and values do not increase as they must.</summary>
    public bool TryLoad(int logSize)
    {
        Clear();
        if (!File.Exists(FilePath))
        {
            return false;
        }

        byte[] bytes = File.ReadAllBytes(FilePath);
        int size = EntrySize;
        if (bytes.Length % size != 0)
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
                Clear();
                return false;
            }

            Append(key, value);
            prevKey = key;
            prevValue = value;
        }

        lock (_fileLock)
        {
            _persisted = n;
            _fileNeedsTrim = false;
        }

        return true;
    }

    public void Delete()
    {
        lock (_fileLock)
        {
            File.Delete(FilePath);
            _persisted = 0;
        }
    }
}
