using System.Buffers.Binary;
using System.Globalization;
using Actors.Log.Records;
using Microsoft.Win32.SafeHandles;
using static Actors.Log.Records.RecordBatchLayout;

namespace Actors.Log.Storage;

/// <summary>One segment: a <c>.log</c> file of record batches starting at <see cref="BaseOffset"/>, with its
/// <c>.index</c> and <c>.timeindex</c>.</summary>
/// <remarks>
/// One writer appends and truncates; readers may read concurrently. The writer writes the bytes, updates the
/// indexes, then publishes <see cref="Size"/> with a volatile write, so a reader bounded by <see cref="Size"/>
/// sees only whole batches. Truncation and deletion run under the owning log's exclusive lock.
/// </remarks>
internal sealed class LogSegment : IDisposable
{
    private const int HeaderProbe = HeaderSize;

    private readonly SafeFileHandle _handle;
    private readonly DirectorySync _directory;
    private int _size;
    private int _flushedSize;
    private long _nextOffset;
    private long _maxTimestamp = -1;
    private long _offsetOfMaxTimestamp = -1;
    private int _bytesSinceLastIndexEntry;
    private bool _disposed;

    private LogSegment(DirectorySync directory, long baseOffset, SafeFileHandle handle, DateTimeOffset created, int indexBytes)
    {
        BaseOffset = baseOffset;
        _directory = directory;
        string stem = Path.Combine(directory.Path, FileStem(baseOffset));
        LogPath = stem + ".log";
        _handle = handle;
        OffsetIndex = new SegmentIndex(stem + ".index", isTimeIndex: false, indexBytes / 8);
        TimeIndex = new SegmentIndex(stem + ".timeindex", isTimeIndex: true, indexBytes / 12);
        _nextOffset = baseOffset;
        Created = created;
    }

    public long BaseOffset { get; }

    public string LogPath { get; }

    public SegmentIndex OffsetIndex { get; }

    public SegmentIndex TimeIndex { get; }

    /// <summary>Bytes of whole batches in the file, as published to readers.</summary>
    public int Size => Volatile.Read(ref _size);

    /// <summary>Offset after the last batch of this segment.</summary>
    public long NextOffset => Volatile.Read(ref _nextOffset);

    /// <summary>Largest batch max-timestamp in the segment, -1 if none.</summary>
    public long MaxTimestamp => Volatile.Read(ref _maxTimestamp);

    public long OffsetOfMaxTimestamp => _offsetOfMaxTimestamp;

    /// <summary>Max timestamp of the first batch, -1 when empty or unknown; drives time-based rolls.</summary>
    public long FirstBatchTimestamp { get; private set; } = -1;

    /// <summary>When this segment object was created or loaded (segment.ms counts from it when batches carry no
    /// timestamps).</summary>
    public DateTimeOffset Created { get; }

    /// <summary>True when log bytes or index entries are not yet fsynced.</summary>
    public bool IsDirty => Volatile.Read(ref _flushedSize) != Size || OffsetIndexDirty || IndexFilesUnsynced;

    private bool OffsetIndexDirty { get; set; }

    private bool IndexFilesUnsynced { get; set; }

    public static string FileStem(long baseOffset) => baseOffset.ToString("D20", CultureInfo.InvariantCulture);

    /// <summary>Creates an empty segment file (emptying one left at that name) and reports the new directory
    /// entry to <paramref name="directory"/>; the owner fsyncs the directory before it reports anything durable
    /// that depends on the file.</summary>
    public static LogSegment Create(DirectorySync directory, long baseOffset, DateTimeOffset now, int indexBytes)
    {
        string path = Path.Combine(directory.Path, FileStem(baseOffset) + ".log");
        SafeFileHandle handle = File.OpenHandle(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        try
        {
            if (RandomAccess.GetLength(handle) != 0)
            {
                RandomAccess.SetLength(handle, 0);
            }

            var segment = new LogSegment(directory, baseOffset, handle, now, indexBytes);
            File.Delete(segment.OffsetIndex.FilePath);
            File.Delete(segment.TimeIndex.FilePath);
            directory.MarkChanged();
            segment.ReserveIndexes();
            return segment;
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>Opens an existing segment file without reading it; call <see cref="LoadIndexes"/> or <see cref="Recover"/>.</summary>
    public static LogSegment OpenExisting(DirectorySync directory, long baseOffset, DateTimeOffset now, int indexBytes)
    {
        string path = Path.Combine(directory.Path, FileStem(baseOffset) + ".log");
        SafeFileHandle handle = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        long length = RandomAccess.GetLength(handle);
        if (length > int.MaxValue)
        {
            handle.Dispose();
            throw new InvalidDataException($"Segment '{path}' is {length} bytes; segments are limited to 2 GiB.");
        }

        var segment = new LogSegment(directory, baseOffset, handle, now, indexBytes)
        {
            _size = (int)length,
            _flushedSize = (int)length,
        };
        return segment;
    }

    /// <summary>Loads the index files of a cleanly closed segment and derives the tail state. Returns false when
    /// an index is missing or damaged; the caller then runs <see cref="Recover"/>, which rebuilds them.</summary>
    public bool LoadIndexes(bool active)
    {
        int size = Size;
        if (!OffsetIndex.TryLoad(size, active) || !TimeIndex.TryLoad(size, active))
        {
            return false;
        }

        Span<byte> header = stackalloc byte[HeaderProbe];
        if (OffsetIndex.Count > 0)
        {
            // Sanity check the last entry against the log: a batch must start there and end at that offset.
            int pos = OffsetIndex.LastValue;
            if (!TryReadHeader(pos, size, header) || BinaryPrimitives.ReadInt64BigEndian(header) + BinaryPrimitives.ReadInt32BigEndian(header.Slice(LastOffsetDeltaOffset)) != BaseOffset + OffsetIndex.LastKey)
            {
                return false;
            }
        }

        if (size > 0 && !TryReadHeader(0, size, header))
        {
            return false;
        }

        FirstBatchTimestamp = size > 0 ? BinaryPrimitives.ReadInt64BigEndian(header.Slice(MaxTimestampOffset)) : -1;
        if (!RecomputeTail())
        {
            return false;
        }

        // The time index must not point past the log's last offset.
        return TimeIndex.Count == 0 || BaseOffset + TimeIndex.LastValue < NextOffset;
    }

    /// <summary>Scans every batch, checking lengths, magic, CRC and offset order, cuts the file at the first bad
    /// or torn batch and rebuilds both indexes. Returns the number of bytes cut.</summary>
    public long Recover(int maxMessageBytes, int indexIntervalBytes)
    {
        int fileSize = Size;
        OffsetIndex.Clear();
        TimeIndex.Clear();
        _maxTimestamp = -1;
        _offsetOfMaxTimestamp = -1;
        _bytesSinceLastIndexEntry = 0;
        _nextOffset = BaseOffset;
        FirstBatchTimestamp = -1;
        int pos = 0;
        byte[] buffer = new byte[Math.Min(Math.Max(64 * 1024, HeaderSize), Math.Max(fileSize, HeaderSize))];
        long expectedMin = BaseOffset;
        while (pos < fileSize)
        {
            int available = fileSize - pos;
            if (available < LogOverhead)
            {
                break;
            }

            int headerRead = RandomAccess.Read(_handle, buffer.AsSpan(0, Math.Min(HeaderSize, available)), pos);
            if (headerRead < LogOverhead)
            {
                break;
            }

            int length = BinaryPrimitives.ReadInt32BigEndian(buffer.AsSpan(BatchLengthOffset));
            if (length < MinBatchLength || length > available - LogOverhead || (long)length + LogOverhead > Math.Max(maxMessageBytes, int.MaxValue / 2))
            {
                break;
            }

            int batchSize = length + LogOverhead;
            if (buffer.Length < batchSize)
            {
                buffer = new byte[batchSize];
            }

            if (RandomAccess.Read(_handle, buffer.AsSpan(0, batchSize), pos) != batchSize)
            {
                break;
            }

            ReadOnlySpan<byte> bytes = buffer.AsSpan(0, batchSize);
            if (RecordBatchReader.Validate(bytes, int.MaxValue, out _) != RecordBatchError.None)
            {
                break;
            }

            var batch = new RecordBatch(bytes);
            if (batch.BaseOffset < expectedMin || batch.LastOffset - BaseOffset > int.MaxValue)
            {
                break;
            }

            OnBatchAppended(batch.BaseOffset, batch.LastOffset, batch.MaxTimestamp, pos, batchSize, indexIntervalBytes);
            expectedMin = batch.LastOffset + 1;
            pos += batchSize;
        }

        long cut = fileSize - pos;
        if (cut > 0)
        {
            RandomAccess.SetLength(_handle, pos);
        }

        Volatile.Write(ref _size, pos);
        Volatile.Write(ref _nextOffset, expectedMin);
        // What a crashed process wrote may still be only in the page cache: the next flush fsyncs it all.
        Volatile.Write(ref _flushedSize, 0);
        OffsetIndexDirty = true;
        return cut;
    }

    /// <summary>Records a batch just written at <paramref name="position"/>: index entries, timestamps, next offset.
    /// Does not publish <see cref="Size"/>; the caller does with <see cref="Publish"/>.</summary>
    public void OnBatchAppended(long baseOffset, long lastOffset, long maxTimestamp, int position, int size, int indexIntervalBytes)
    {
        if (position == 0)
        {
            FirstBatchTimestamp = maxTimestamp;
        }

        if (maxTimestamp > _maxTimestamp)
        {
            Volatile.Write(ref _maxTimestamp, maxTimestamp);
            _offsetOfMaxTimestamp = lastOffset;
        }

        if (_bytesSinceLastIndexEntry > indexIntervalBytes)
        {
            OffsetIndex.Append(lastOffset - BaseOffset, position);
            if (_maxTimestamp > TimeIndex.LastKey)
            {
                TimeIndex.Append(_maxTimestamp, (int)(_offsetOfMaxTimestamp - BaseOffset));
            }

            _bytesSinceLastIndexEntry = 0;
            OffsetIndexDirty = true;
        }

        _bytesSinceLastIndexEntry += size;
        _nextOffset = lastOffset + 1;
    }

    /// <summary>Writes <paramref name="bytes"/> at the end of the file (not yet visible to readers).</summary>
    public void WriteAtEnd(ReadOnlySpan<byte> bytes) => RandomAccess.Write(_handle, bytes, Size);

    /// <summary>Makes everything written so far visible to readers.</summary>
    public void Publish(int newSize, long nextOffset)
    {
        Volatile.Write(ref _size, newSize);
        Volatile.Write(ref _nextOffset, nextOffset);
    }

    /// <summary>Adds the final time-index entry when the segment stops being the active one (as Kafka does), so
    /// the largest timestamp survives a reopen.</summary>
    public void OnBecomeInactive()
    {
        if (_maxTimestamp > TimeIndex.LastKey && _offsetOfMaxTimestamp >= BaseOffset && TimeIndex.Remaining > 0)
        {
            TimeIndex.Append(_maxTimestamp, (int)(_offsetOfMaxTimestamp - BaseOffset));
            OffsetIndexDirty = true;
        }

        WriteIndexes(flushToDisk: false);
    }

    public void WriteIndexes(bool flushToDisk)
    {
        OffsetIndexDirty = false;
        IndexFilesUnsynced = !flushToDisk;
        bool created = OffsetIndex.WriteOut(flushToDisk);
        created |= TimeIndex.WriteOut(flushToDisk);
        if (created)
        {
            _directory.MarkChanged();
        }
    }

    /// <summary>True when log bytes are not yet fsynced.</summary>
    public bool NeedsLogSync => Volatile.Read(ref _flushedSize) != Size;

    /// <summary>fsyncs the log file and, with <paramref name="includeIndexes"/>, writes and fsyncs the index files.
    /// The active segment's indexes need no fsync: recovery always rescans the segment holding the recovery point.</summary>
    public void Flush(bool includeIndexes = true)
    {
        int size = Size;
        if (includeIndexes)
        {
            WriteIndexes(flushToDisk: true);
        }

        if (Volatile.Read(ref _flushedSize) != size || includeIndexes)
        {
            RandomAccess.FlushToDisk(_handle);
        }

        Volatile.Write(ref _flushedSize, size);
    }

    /// <summary>Reads file bytes at <paramref name="position"/>; returns the count read.</summary>
    public int Read(long position, Span<byte> destination) => RandomAccess.Read(_handle, destination, position);

    /// <summary>Reads a batch header at <paramref name="position"/> when a whole one lies below <paramref name="limit"/>.</summary>
    public bool TryReadHeader(int position, int limit, Span<byte> header)
    {
        if (position < 0 || limit - position < HeaderSize)
        {
            return false;
        }

        return RandomAccess.Read(_handle, header.Slice(0, HeaderSize), position) == HeaderSize
            && BinaryPrimitives.ReadInt32BigEndian(header.Slice(BatchLengthOffset)) >= MinBatchLength;
    }

    /// <summary>Position of the first batch whose last offset is at least <paramref name="offset"/>, searching
    /// below <paramref name="limit"/> bytes; -1 when there is none. Uses the sparse index, then scans headers.</summary>
    public int FindPosition(long offset, int limit, out long batchBaseOffset)
    {
        Span<byte> header = stackalloc byte[HeaderProbe];
        return FindPosition(offset, limit, header, out batchBaseOffset);
    }

    /// <summary>As <see cref="FindPosition(long, int, out long)"/>, leaving the found batch's header in <paramref name="header"/>.</summary>
    public int FindPosition(long offset, int limit, Span<byte> header, out long batchBaseOffset)
    {
        batchBaseOffset = -1;
        int entry = OffsetIndex.FloorIndex(offset - BaseOffset);
        int pos = entry < 0 ? 0 : OffsetIndex.ValueAt(entry);
        while (TryReadHeader(pos, limit, header))
        {
            long baseOffset = BinaryPrimitives.ReadInt64BigEndian(header);
            long last = baseOffset + BinaryPrimitives.ReadInt32BigEndian(header.Slice(LastOffsetDeltaOffset));
            if (last >= offset)
            {
                batchBaseOffset = baseOffset;
                return pos;
            }

            pos += BinaryPrimitives.ReadInt32BigEndian(header.Slice(BatchLengthOffset)) + LogOverhead;
        }

        return -1;
    }

    /// <summary>A likely position of the batch holding <paramref name="offset"/>: the first index entry whose
    /// offset is at least it (every entry names a batch's last offset and start). -1 when there is no such entry.
    /// The caller must check the batch found there.</summary>
    public int GuessPosition(long offset)
    {
        int entry = OffsetIndex.FloorIndex(offset - BaseOffset);
        if (entry >= 0 && OffsetIndex.KeyAt(entry) == offset - BaseOffset)
        {
            return OffsetIndex.ValueAt(entry);
        }

        return entry + 1 < OffsetIndex.Count ? OffsetIndex.ValueAt(entry + 1) : -1;
    }

    /// <summary>Removes every batch whose last offset is at least <paramref name="offset"/>; returns bytes removed.</summary>
    public int TruncateTo(long offset)
    {
        int size = Size;
        int pos = FindPosition(offset, size, out long batchBase);
        if (pos < 0)
        {
            return 0;
        }

        OffsetIndex.TruncateFrom(pos, byValue: true);
        TimeIndex.TruncateFrom(batchBase - BaseOffset, byValue: true);
        RandomAccess.SetLength(_handle, pos);
        Volatile.Write(ref _size, pos);
        if (Volatile.Read(ref _flushedSize) > pos)
        {
            Volatile.Write(ref _flushedSize, pos);
        }

        if (pos == 0)
        {
            FirstBatchTimestamp = -1;
        }

        RecomputeTail();
        OffsetIndexDirty = true;
        return size - pos;
    }

    /// <summary>Derives next offset, max timestamp and bytes since the last index entry by scanning the batches
    /// after the last offset-index entry (at most about one index interval plus one batch).</summary>
    private bool RecomputeTail()
    {
        int size = Size;
        int pos = OffsetIndex.Count > 0 ? OffsetIndex.LastValue : 0;
        long next = BaseOffset;
        long maxTs = TimeIndex.Count > 0 ? TimeIndex.LastKey : -1;
        long offsetOfMax = TimeIndex.Count > 0 ? BaseOffset + TimeIndex.LastValue : -1;
        Span<byte> header = stackalloc byte[HeaderProbe];
        while (pos < size)
        {
            if (!TryReadHeader(pos, size, header))
            {
                return false;
            }

            long baseOffset = BinaryPrimitives.ReadInt64BigEndian(header);
            long last = baseOffset + BinaryPrimitives.ReadInt32BigEndian(header.Slice(LastOffsetDeltaOffset));
            long ts = BinaryPrimitives.ReadInt64BigEndian(header.Slice(MaxTimestampOffset));
            if (ts > maxTs)
            {
                maxTs = ts;
                offsetOfMax = last;
            }

            next = last + 1;
            int batchSize = BinaryPrimitives.ReadInt32BigEndian(header.Slice(BatchLengthOffset)) + LogOverhead;
            if (batchSize > size - pos)
            {
                return false;
            }

            pos += batchSize;
        }

        _bytesSinceLastIndexEntry = size - (OffsetIndex.Count > 0 ? OffsetIndex.LastValue : 0);
        Volatile.Write(ref _maxTimestamp, maxTs);
        _offsetOfMaxTimestamp = offsetOfMax;
        if (size == 0)
        {
            next = BaseOffset;
        }

        Volatile.Write(ref _nextOffset, next);
        return true;
    }

    /// <summary>Closes the file handle and deletes the segment's files.</summary>
    public void Delete()
    {
        Dispose();
        File.Delete(LogPath);
        OffsetIndex.Delete();
        TimeIndex.Delete();
        _directory.MarkChanged();
    }

    /// <summary>Reserves index room for appends; call only while no reader can see this segment's indexes
    /// (creation, load, or under the log's exclusive lock).</summary>
    public void ReserveIndexes()
    {
        OffsetIndex.EnsureReserved(OffsetIndex.MaxEntries);
        TimeIndex.EnsureReserved(TimeIndex.MaxEntries);
    }

    /// <summary>Shrinks index memory to the entries held; only while no reader can see this segment (load).</summary>
    public void CompactIndexes()
    {
        OffsetIndex.Compact();
        TimeIndex.Compact();
    }

    /// <summary>True when the indexes cannot take <paramref name="batches"/> more entries (plus the final
    /// time-index entry written at roll).</summary>
    public bool IndexesFull(int batches) => OffsetIndex.Remaining < batches || TimeIndex.Remaining < batches + 1;

    /// <summary>Frees the file handle and the index memory. The owning log calls it under its exclusive lock.</summary>
    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            _handle.Dispose();
            OffsetIndex.Dispose();
            TimeIndex.Dispose();
        }
    }
}
