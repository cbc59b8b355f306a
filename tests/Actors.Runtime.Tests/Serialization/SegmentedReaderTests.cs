using System.Buffers;
using Actors.Runtime.Tests.CodeGen;
using Actors.Serialization;

namespace Actors.Runtime.Tests.Serialization;

/// <summary>A reader over a sequence of segments (a frame as the receive pipe holds it) reads exactly what a
/// reader over one span reads, wherever the segment boundaries fall.</summary>
public sealed class SegmentedReaderTests
{
    [Fact]
    public void Every_member_type_reads_the_same_at_every_two_segment_split()
    {
        var runtime = new LoopbackCallRuntime();
        var bytes = ActorSerializer.SerializeToArray(EverythingWithLargePayloads(runtime));
        var expected = ReadAndWriteBack(runtime, new ReadOnlySequence<byte>(bytes));
        Assert.Equal(bytes, expected);

        for (var split = 1; split < bytes.Length; split++)
        {
            var sequence = Segments.Of(bytes[..split], bytes[split..]);
            Assert.False(sequence.IsSingleSegment);
            Assert.Equal(expected, ReadAndWriteBack(runtime, sequence));
        }
    }

    [Fact]
    public void One_byte_segments_with_empty_ones_between_read_the_same()
    {
        var runtime = new LoopbackCallRuntime();
        var bytes = ActorSerializer.SerializeToArray(EverythingWithLargePayloads(runtime));
        var pieces = new List<byte[]>();
        foreach (var b in bytes)
        {
            pieces.Add([b]);
            pieces.Add([]);
        }

        Assert.Equal(bytes, ReadAndWriteBack(runtime, Segments.Of([.. pieces])));
    }

    [Fact]
    public void Random_splits_read_the_same()
    {
        var runtime = new LoopbackCallRuntime();
        var bytes = ActorSerializer.SerializeToArray(EverythingWithLargePayloads(runtime));
        var seed = Random.Shared.Next();
        Console.WriteLine($"segmented reader seed {seed}");
        var random = new Random(seed);
        for (var round = 0; round < 200; round++)
        {
            var pieces = new List<byte[]>();
            for (var at = 0; at < bytes.Length;)
            {
                var take = Math.Min(bytes.Length - at, random.Next(0, 9000));
                pieces.Add(bytes[at..(at + take)]);
                at += take;
            }

            Assert.True(ReadAndWriteBack(runtime, Segments.Of([.. pieces])).AsSpan().SequenceEqual(bytes), $"round {round}, seed {seed}");
        }
    }

    [Fact]
    public void A_payload_across_three_segments_is_read_into_one_new_array()
    {
        var payload = new byte[10_000];
        new Random(3).NextBytes(payload);
        var bytes = ActorSerializer.SerializeToArray(payload);
        var sequence = Segments.Of(bytes[..100], bytes[100..5000], bytes[5000..]);
        var reader = new ActorReader(sequence);
        var back = FieldCodec.ReadField<byte[]>(ref reader);
        Assert.True(reader.IsEnd);
        Assert.Equal(payload, back);

        // A ReadOnlyMemory<byte> payload is also copied out of the segments: the pipe reuses their memory.
        reader = new ActorReader(sequence);
        var memory = FieldCodec.ReadField<ReadOnlyMemory<byte>>(ref reader);
        Assert.Equal(payload, memory.ToArray());
    }

    [Fact]
    public void Truncated_segmented_input_fails_with_a_serialization_error_naming_the_position()
    {
        var bytes = ActorSerializer.SerializeToArray(new Point(123456, -7));
        for (var length = 0; length < bytes.Length; length++)
        {
            var cut = bytes[..length];
            var half = cut.Length / 2;
            var sequence = Segments.Of(cut[..half], cut[half..]);
            var error = Assert.Throws<SerializationException>(() =>
            {
                var reader = new ActorReader(sequence);
                FieldCodec.ReadField<Point>(ref reader);
            });
            Assert.Contains("position", error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Position_and_remaining_count_across_segments()
    {
        var sequence = Segments.Of([0x96, 0x01], [0x05], [], [1, 2, 3]);
        var reader = new ActorReader(sequence);
        Assert.Equal(6, reader.Remaining);
        Assert.Equal(150UL, reader.ReadVarUInt64());
        Assert.Equal(2, reader.Position);
        Assert.Equal(new byte[] { 5, 1, 2 }, reader.ReadRaw(3).ToArray());
        Assert.Equal(5, reader.Position);
        Assert.Equal(1, reader.Remaining);
        Assert.Equal(3, reader.ReadByte());
        Assert.True(reader.IsEnd);
    }

    private static Everything EverythingWithLargePayloads(LoopbackCallRuntime runtime)
    {
        var large = new byte[20_000];
        new Random(11).NextBytes(large);
        return new Everything
        {
            Int = -123456,
            Long = long.MinValue,
            Decimal = 79228162514264337593543950335m,
            Double = -2.25,
            String = new string('é', 3000),
            Bytes = large,
            ReadOnlyMemory = large.AsMemory(1, 9000),
            Memory = large.AsMemory(5, 4000),
            Guid = Guid.Parse("0f8fad5b-d9cb-469f-a165-70867728950e"),
            DateTimeOffset = new DateTimeOffset(2026, 11, 30, 9, 0, 0, TimeSpan.FromHours(2)),
            NullableGuid = Guid.NewGuid(),
            IntArray = [1, -1, int.MaxValue],
            StringList = ["a", null, "c"],
            Dictionary = new() { ["x"] = 1, ["y"] = 2 },
            Silo = new Actors.Membership.SiloAddress("10.0.0.1", 11111, 42),
            GrainId = new GrainId("calculator", "abc"),
            NestedList = [new Point(3, 4), new Point(5, 6)],
            Grain = runtime.GetGrain<ICalculatorGrain>(new GrainId("calculator", "member")),
            Payloads = [large.AsMemory(0, 3000), ReadOnlyMemory<byte>.Empty],
        };
    }

    /// <summary>Reads an <see cref="Everything"/> from <paramref name="input"/> and writes it again.</summary>
    private static byte[] ReadAndWriteBack(LoopbackCallRuntime runtime, ReadOnlySequence<byte> input)
    {
        Everything back;
        using (SerializationContext.Enter(runtime))
        {
            var reader = new ActorReader(input);
            back = FieldCodec.ReadField<Everything>(ref reader);
            Assert.True(reader.IsEnd, $"{reader.Remaining} bytes left unread");
        }

        return ActorSerializer.SerializeToArray(back);
    }

    /// <summary>A sequence made of the given arrays, in order (empty ones included).</summary>
    private sealed class Segments : ReadOnlySequenceSegment<byte>
    {
        private Segments(byte[] bytes, long runningIndex)
        {
            Memory = bytes;
            RunningIndex = runningIndex;
        }

        public static ReadOnlySequence<byte> Of(params byte[][] arrays)
        {
            var first = new Segments(arrays[0], 0);
            var last = first;
            foreach (var array in arrays.Skip(1))
            {
                var next = new Segments(array, last.RunningIndex + last.Memory.Length);
                last.Next = next;
                last = next;
            }

            return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
        }
    }
}
