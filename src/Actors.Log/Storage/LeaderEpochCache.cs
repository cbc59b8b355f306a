using System.Globalization;

namespace Actors.Log.Storage;

/// <summary>Maps leader epochs to the first offset each epoch wrote, persisted in <c>leader-epoch-checkpoint</c>
/// in Kafka's format ("0", the entry count, then "epoch startOffset" lines).</summary>
/// <remarks>Epochs and start offsets both strictly increase along the list. Thread-safe: every member locks;
/// changes are written to disk (atomically, with the file and the directory fsynced) before the method returns.</remarks>
internal sealed class LeaderEpochCache
{
    public const string FileName = "leader-epoch-checkpoint";

    private readonly object _lock = new();
    private readonly List<EpochEntry> _entries = new();
    private readonly DirectorySync _directory;
    private readonly string _path;

    /// <summary>Loads the cache from <see cref="FileName"/> in <paramref name="directory"/>, empty when the file is absent.</summary>
    public LeaderEpochCache(DirectorySync directory)
    {
        _directory = directory;
        _path = Path.Combine(directory.Path, FileName);
        string[]? lines = CheckpointFile.Read(_path);
        if (lines is null)
        {
            return;
        }

        if (lines.Length < 1 || !int.TryParse(lines[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out int count) || count != lines.Length - 1)
        {
            throw new InvalidDataException($"'{_path}' has a bad entry count; delete it to start the epoch cache afresh.");
        }

        for (int i = 1; i < lines.Length; i++)
        {
            string[] parts = lines[i].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length != 2
                || !int.TryParse(parts[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out int epoch)
                || !long.TryParse(parts[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out long start)
                || (_entries.Count > 0 && (epoch <= _entries[^1].Epoch || start < _entries[^1].StartOffset)))
            {
                throw new InvalidDataException($"'{_path}' line {i + 2} is not an increasing 'epoch startOffset' pair; delete the file to start the epoch cache afresh.");
            }

            _entries.Add(new EpochEntry(epoch, start));
        }
    }

    /// <summary>Latest epoch, or -1 when empty.</summary>
    public int LatestEpoch
    {
        get
        {
            lock (_lock)
            {
                return _entries.Count == 0 ? -1 : _entries[^1].Epoch;
            }
        }
    }

    public IReadOnlyList<EpochEntry> Entries
    {
        get
        {
            lock (_lock)
            {
                return _entries.ToArray();
            }
        }
    }

    /// <summary>Records that <paramref name="epoch"/> starts at <paramref name="startOffset"/> when it is newer
    /// than the latest epoch. Entries at or after the start offset (left by an older leader) are dropped.
    /// Returns true when the cache changed.</summary>
    public bool Assign(int epoch, long startOffset)
    {
        if (epoch < 0)
        {
            return false;
        }

        lock (_lock)
        {
            if (_entries.Count > 0 && epoch <= _entries[^1].Epoch)
            {
                return false;
            }

            _entries.RemoveAll(e => e.StartOffset >= startOffset);
            _entries.Add(new EpochEntry(epoch, startOffset));
            Persist();
            return true;
        }
    }

    /// <summary>Forgets every entry (the log was emptied and restarted elsewhere).</summary>
    public void Clear()
    {
        lock (_lock)
        {
            if (_entries.Count > 0)
            {
                _entries.Clear();
                Persist();
            }
        }
    }

    /// <summary>Drops entries starting at or after <paramref name="endOffset"/> (the log was truncated there).</summary>
    public void TruncateFromEnd(long endOffset)
    {
        lock (_lock)
        {
            if (_entries.RemoveAll(e => e.StartOffset >= endOffset) > 0)
            {
                Persist();
            }
        }
    }

    /// <summary>The log start moved to <paramref name="startOffset"/>: drop entries wholly before it and move the
    /// start of the epoch containing it up to it.</summary>
    public void TruncateFromStart(long startOffset)
    {
        lock (_lock)
        {
            int firstKept = -1;
            for (int i = 0; i < _entries.Count; i++)
            {
                if (_entries[i].StartOffset <= startOffset)
                {
                    firstKept = i;
                }
            }

            if (firstKept < 0 || (firstKept == 0 && _entries[0].StartOffset == startOffset))
            {
                return;
            }

            EpochEntry kept = _entries[firstKept];
            _entries.RemoveRange(0, firstKept);
            _entries[0] = kept with { StartOffset = startOffset };
            Persist();
        }
    }

    /// <summary>Kafka's OffsetsForLeaderEpoch answer: the largest epoch at most <paramref name="epoch"/> and the
    /// offset where the epoch after it begins (the log end offset when it is the latest); (-1, -1) when the
    /// epoch is newer than any known or the cache is empty.</summary>
    public (int Epoch, long EndOffset) EndOffsetFor(int epoch, long logEndOffset)
    {
        lock (_lock)
        {
            if (epoch < 0 || _entries.Count == 0)
            {
                return (-1, -1);
            }

            if (_entries[^1].Epoch == epoch)
            {
                return (epoch, logEndOffset);
            }

            int higher = -1;
            for (int i = 0; i < _entries.Count; i++)
            {
                if (_entries[i].Epoch > epoch)
                {
                    higher = i;
                    break;
                }
            }

            if (higher < 0)
            {
                return (-1, -1);
            }

            return higher == 0 ? (epoch, _entries[0].StartOffset) : (_entries[higher - 1].Epoch, _entries[higher].StartOffset);
        }
    }

    private void Persist()
    {
        var lines = new List<string>(_entries.Count + 1) { _entries.Count.ToString(CultureInfo.InvariantCulture) };
        foreach (EpochEntry e in _entries)
        {
            lines.Add(string.Create(CultureInfo.InvariantCulture, $"{e.Epoch} {e.StartOffset}"));
        }

        CheckpointFile.Write(_directory, FileName, lines);
    }
}
