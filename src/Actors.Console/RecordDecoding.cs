using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Actors.Log.Records;

namespace Actors.WebConsole;

/// <summary>One record as the message browser shows it.</summary>
public sealed record BrowsedRecord(long Offset, long Timestamp, byte[]? Key, byte[]? Value, IReadOnlyList<BrowsedHeader> Headers);

/// <summary>One record header.</summary>
public sealed record BrowsedHeader(string Key, byte[]? Value);

/// <summary>Decodes fetched record batches into records, and renders bytes as text, JSON or hex.</summary>
public static class RecordDecoding
{
    /// <summary>The records at or after <paramref name="from"/> in <paramref name="batches"/>, at most
    /// <paramref name="limit"/>. Uncompressed and gzip batches are decoded; a batch in another codec is reported in
    /// <paramref name="notes"/> (its offsets are skipped). Control batches (transaction markers) are skipped.</summary>
    public static long Decode(ReadOnlySpan<byte> batches, long from, int limit, List<BrowsedRecord> into, List<string> notes)
    {
        ArgumentNullException.ThrowIfNull(into);
        ArgumentNullException.ThrowIfNull(notes);
        var next = from;
        var reader = new RecordBatchReader(batches);
        while (into.Count < limit && reader.TryReadNext(out var batch))
        {
            if (batch.NextOffset <= from)
            {
                continue;
            }

            next = Math.Max(next, batch.NextOffset);
            if (batch.IsControl)
            {
                continue;
            }

            switch (batch.Compression)
            {
                case CompressionType.None:
                    Add(batch, from, limit, into);
                    break;
                case CompressionType.Gzip:
                    var plain = Gunzip(batch);
                    Add(new RecordBatch(plain), from, limit, into);
                    break;
                default:
                    notes.Add($"Offsets {batch.BaseOffset}–{batch.LastOffset} are a {batch.Compression} batch of {batch.RecordCount} records; the console decodes uncompressed and gzip batches only.");
                    break;
            }
        }

        return next;
    }

    private static void Add(RecordBatch batch, long from, int limit, List<BrowsedRecord> into)
    {
        foreach (var record in batch)
        {
            if (into.Count >= limit)
            {
                return;
            }

            if (record.Offset < from)
            {
                continue;
            }

            var headers = new List<BrowsedHeader>(record.HeaderCount);
            foreach (var header in record.Headers)
            {
                headers.Add(new BrowsedHeader(header.KeyString, header.ValueIsNull ? null : header.Value.ToArray()));
            }

            into.Add(new BrowsedRecord(record.Offset, record.Timestamp,
                record.KeyIsNull ? null : record.Key.ToArray(),
                record.ValueIsNull ? null : record.Value.ToArray(),
                headers));
        }
    }

    /// <summary>A copy of a gzip batch with its records inflated and the codec bits cleared, so it enumerates as an
    /// uncompressed batch (the CRC is not recomputed: the copy is only read here).</summary>
    private static byte[] Gunzip(RecordBatch batch)
    {
        var header = batch.Bytes[..RecordBatchLayout.HeaderSize];
        using var input = new MemoryStream(batch.Bytes[RecordBatchLayout.HeaderSize..].ToArray());
        using var gzip = new GZipStream(input, CompressionMode.Decompress);
        using var output = new MemoryStream();
        output.Write(header);
        // Bounded: a batch inflates to at most 64 MiB here.
        var buffer = new byte[81920];
        int read;
        while ((read = gzip.Read(buffer)) > 0)
        {
            if (output.Length + read > 64L * 1024 * 1024)
            {
                throw new InvalidDataException($"The gzip batch at offset {batch.BaseOffset} inflates past 64 MiB; the console does not show it.");
            }

            output.Write(buffer, 0, read);
        }

        var bytes = output.ToArray();
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(RecordBatchLayout.BatchLengthOffset), bytes.Length - RecordBatchLayout.LogOverhead);
        var attributes = BinaryPrimitives.ReadInt16BigEndian(bytes.AsSpan(RecordBatchLayout.AttributesOffset));
        BinaryPrimitives.WriteInt16BigEndian(bytes.AsSpan(RecordBatchLayout.AttributesOffset), (short)(attributes & ~0x07));
        return bytes;
    }

    /// <summary>The formats the browser offers.</summary>
    public static readonly string[] Formats = ["text", "json", "hex"];

    /// <summary>Renders bytes: "text" (UTF-8, invalid bytes replaced), "json" (indented when the bytes parse as JSON,
    /// else text), "hex" (bytes in pairs, 16 per line). Null is "null".</summary>
    public static string Render(byte[]? bytes, string format)
    {
        if (bytes is null)
        {
            return "null";
        }

        switch (format)
        {
            case "hex":
                var hex = new StringBuilder(bytes.Length * 3);
                for (var i = 0; i < bytes.Length; i++)
                {
                    hex.Append(i == 0 ? "" : i % 16 == 0 ? "\n" : " ").Append(bytes[i].ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
                }

                return hex.ToString();
            case "json":
                try
                {
                    using var document = JsonDocument.Parse(bytes);
                    return JsonSerializer.Serialize(document.RootElement, IndentedJson);
                }
                catch (JsonException)
                {
                    return Encoding.UTF8.GetString(bytes);
                }

            default:
                return Encoding.UTF8.GetString(bytes);
        }
    }

    private static readonly JsonSerializerOptions IndentedJson = new() { WriteIndented = true };
}
