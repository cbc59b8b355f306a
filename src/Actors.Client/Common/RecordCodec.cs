using System.Buffers.Binary;
using System.IO.Compression;
using Actors.Log.Records;
using K4os.Compression.LZ4;
using K4os.Compression.LZ4.Streams;
using static Actors.Log.Records.RecordBatchLayout;

namespace Actors.Client;

/// <summary>
/// Record batches in and out of the log's format: batches are built by <see cref="BatchWriter"/> and
/// read by its <see cref="RecordBatch"/>; this class adds the compression Kafka clients use on the records section
/// (gzip, snappy with Kafka's xerial framing, lz4 frames, zstd), which the broker stores as it gets it.
/// </summary>
internal static class RecordCodec
{
    private static readonly byte[] XerialMagic = [0x82, (byte)'S', (byte)'N', (byte)'A', (byte)'P', (byte)'P', (byte)'Y', 0];

    /// <summary>Parses compression.type.</summary>
    public static CompressionType Parse(ClientConfig config) => config.OneOf("compression.type", "none", "none", "gzip", "snappy", "lz4", "zstd") switch
    {
        "gzip" => CompressionType.Gzip,
        "snappy" => CompressionType.Snappy,
        "lz4" => CompressionType.Lz4,
        "zstd" => CompressionType.Zstd,
        _ => CompressionType.None,
    };

    /// <summary>The sealed batch of <paramref name="writer"/>, its records compressed with <paramref name="compression"/>
    /// (uncompressed: the writer's own buffer, no copy).</summary>
    public static ReadOnlyMemory<byte> Build(BatchWriter writer, CompressionType compression)
    {
        var plain = writer.Seal();
        if (compression == CompressionType.None)
        {
            return plain;
        }

        var packed = Compress(compression, plain.Span[HeaderSize..]);
        var batch = new byte[HeaderSize + packed.Length];
        plain.Span[..HeaderSize].CopyTo(batch);
        packed.CopyTo(batch.AsSpan(HeaderSize));
        BinaryPrimitives.WriteInt32BigEndian(batch.AsSpan(BatchLengthOffset), batch.Length - LogOverhead);
        var attributes = (short)((BinaryPrimitives.ReadInt16BigEndian(batch.AsSpan(AttributesOffset)) & ~0x07) | (int)compression);
        BinaryPrimitives.WriteInt16BigEndian(batch.AsSpan(AttributesOffset), attributes);
        BinaryPrimitives.WriteUInt32BigEndian(batch.AsSpan(CrcOffset), Crc32C.Compute(batch.AsSpan(AttributesOffset)));
        return batch;
    }

    /// <summary>An uncompressed copy of a compressed batch (same header, records section decompressed), or the batch
    /// itself when it is not compressed. The copy's CRC is not recomputed: it is only read, never stored.</summary>
    public static byte[] Uncompressed(ReadOnlySpan<byte> batchBytes, CompressionType compression)
    {
        if (compression == CompressionType.None)
        {
            return batchBytes.ToArray();
        }

        var records = Decompress(compression, batchBytes.Slice(HeaderSize));
        var copy = new byte[HeaderSize + records.Length];
        batchBytes.Slice(0, HeaderSize).CopyTo(copy);
        records.CopyTo(copy.AsSpan(HeaderSize));
        BinaryPrimitives.WriteInt32BigEndian(copy.AsSpan(BatchLengthOffset), copy.Length - LogOverhead);
        var attributes = (short)(BinaryPrimitives.ReadInt16BigEndian(copy.AsSpan(AttributesOffset)) & ~0x07);
        BinaryPrimitives.WriteInt16BigEndian(copy.AsSpan(AttributesOffset), attributes);
        return copy;
    }

    public static byte[] Compress(CompressionType compression, ReadOnlySpan<byte> data)
    {
        switch (compression)
        {
            case CompressionType.Gzip:
            {
                using var output = new MemoryStream();
                using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
                {
                    gzip.Write(data);
                }

                return output.ToArray();
            }

            case CompressionType.Snappy:
            {
                // Kafka's Java client frames snappy the xerial way: a 16-byte header, then (length, block) pairs.
                using var output = new MemoryStream();
                output.Write(XerialMagic);
                Span<byte> word = stackalloc byte[4];
                BinaryPrimitives.WriteInt32BigEndian(word, 1);
                output.Write(word);
                output.Write(word);
                const int Block = 32 * 1024;
                for (var at = 0; at < data.Length; at += Block)
                {
                    var block = Snappier.Snappy.CompressToArray(data.Slice(at, Math.Min(Block, data.Length - at)));
                    BinaryPrimitives.WriteInt32BigEndian(word, block.Length);
                    output.Write(word);
                    output.Write(block);
                }

                return output.ToArray();
            }

            case CompressionType.Lz4:
            {
                using var output = new MemoryStream();
                var settings = new LZ4EncoderSettings { ChainBlocks = false, CompressionLevel = LZ4Level.L00_FAST };
                using (var lz4 = LZ4Stream.Encode(output, settings, leaveOpen: true))
                {
                    lz4.Write(data);
                }

                return output.ToArray();
            }

            case CompressionType.Zstd:
            {
                using var zstd = new ZstdSharp.Compressor(3);
                return zstd.Wrap(data).ToArray();
            }

            default:
                return data.ToArray();
        }
    }

    public static byte[] Decompress(CompressionType compression, ReadOnlySpan<byte> data)
    {
        switch (compression)
        {
            case CompressionType.Gzip:
                return ReadAll(new GZipStream(new MemoryStream(data.ToArray()), CompressionMode.Decompress));

            case CompressionType.Snappy:
            {
                if (data.Length < 16 || !data.Slice(0, 8).SequenceEqual(XerialMagic))
                {
                    return Snappier.Snappy.DecompressToArray(data);
                }

                using var output = new MemoryStream();
                var at = 16;
                while (at + 4 <= data.Length)
                {
                    var length = BinaryPrimitives.ReadInt32BigEndian(data.Slice(at));
                    at += 4;
                    if (length < 0 || at + length > data.Length)
                    {
                        throw new InvalidDataException($"A snappy block announces {length} bytes; {data.Length - at} remain.");
                    }

                    output.Write(Snappier.Snappy.DecompressToArray(data.Slice(at, length)));
                    at += length;
                }

                return output.ToArray();
            }

            case CompressionType.Lz4:
                return ReadAll(LZ4Stream.Decode(new MemoryStream(data.ToArray())));

            case CompressionType.Zstd:
                return ReadAll(new ZstdSharp.DecompressionStream(new MemoryStream(data.ToArray())));

            default:
                return data.ToArray();
        }
    }

    private static byte[] ReadAll(Stream stream)
    {
        using (stream)
        {
            using var output = new MemoryStream();
            stream.CopyTo(output);
            return output.ToArray();
        }
    }
}
