using System.Buffers;
using System.Collections.Immutable;
using Actors.Membership;
using Actors.Runtime.Tests.CodeGen;
using Actors.Serialization;

namespace Actors.Runtime.Tests.Serialization;

public sealed class GeneratedCodecTests
{
    private static T RoundTrip<T>(T value) => ActorSerializer.Deserialize<T>(ActorSerializer.SerializeToArray(value));

    private static Everything Full(LoopbackCallRuntime runtime) => new()
    {
        Bool = true,
        Byte = 255,
        SByte = -128,
        Short = short.MinValue,
        UShort = ushort.MaxValue,
        Int = -123456,
        UInt = uint.MaxValue,
        Long = long.MinValue,
        ULong = ulong.MaxValue,
        Char = 'λ',
        Float = 1.5f,
        Double = -2.25,
        Decimal = 79228162514264337593543950335m,
        String = "héllo",
        Bytes = [1, 2, 3],
        ReadOnlyMemory = new byte[] { 4, 5 },
        Memory = new byte[] { 6 },
        Guid = Guid.Parse("0f8fad5b-d9cb-469f-a165-70867728950e"),
        DateTime = new DateTime(2026, 11, 21, 12, 30, 0, DateTimeKind.Utc),
        DateTimeOffset = new DateTimeOffset(2026, 11, 21, 12, 30, 0, TimeSpan.FromHours(2)),
        TimeSpan = TimeSpan.FromMilliseconds(-1234),
        Color = Color.Blue,
        Plain = Plain.Min,
        NullableInt = 7,
        NullableGuid = null,
        IntArray = [1, -1, int.MaxValue],
        StringList = ["a", null, "c"],
        ReadOnlyList = [1L, 2L],
        IList = [0.5, 1.5],
        Dictionary = new() { ["x"] = 1, ["y"] = 2 },
        ReadOnlyDictionary = new Dictionary<int, string?> { [1] = "one", [2] = null },
        HashSet = [Guid.Empty],
        ImmutableArray = [3, 4],
        ImmutableDictionary = ImmutableDictionary<string, long>.Empty.Add("k", 9),
        ImmutableList = ["p", "q"],
        Pair = new KeyValuePair<string, int>("key", 10),
        Tuple2 = (1, "two"),
        Tuple3 = (3L, true, Color.Green),
        GrainId = new GrainId("calculator", "abc"),
        Silo = new SiloAddress("10.0.0.1", 11111, 42),
        Nested = new Point(1, 2),
        NestedList = [new Point(3, 4), new Point(5, 6)],
        NestedCollections = new() { ["list"] = [1, 2, 3] },
        Error = new InvalidOperationException("bad state"),
        Grain = runtime.GetGrain<ICalculatorGrain>(new GrainId("calculator", "member")),
        Struct = new PointStruct(1.5, -2.5),
        NullableStruct = new PointStruct(7, 8),
        Colors = [Color.Red, Color.Blue],
        Payloads = [new byte[] { 1 }, ReadOnlyMemory<byte>.Empty],
        Ignored = 99,
    };

    [Fact]
    public void Every_supported_member_type_round_trips()
    {
        var runtime = new LoopbackCallRuntime();
        var value = Full(runtime);
        var bytes = ActorSerializer.SerializeToArray(value);
        Everything back;
        using (SerializationContext.Enter(runtime))
        {
            back = ActorSerializer.Deserialize<Everything>(bytes);
        }

        Assert.Equal(value.Bool, back.Bool);
        Assert.Equal(value.Byte, back.Byte);
        Assert.Equal(value.SByte, back.SByte);
        Assert.Equal(value.Short, back.Short);
        Assert.Equal(value.UShort, back.UShort);
        Assert.Equal(value.Int, back.Int);
        Assert.Equal(value.UInt, back.UInt);
        Assert.Equal(value.Long, back.Long);
        Assert.Equal(value.ULong, back.ULong);
        Assert.Equal(value.Char, back.Char);
        Assert.Equal(value.Float, back.Float);
        Assert.Equal(value.Double, back.Double);
        Assert.Equal(value.Decimal, back.Decimal);
        Assert.Equal(value.String, back.String);
        Assert.Equal(value.Bytes, back.Bytes);
        Assert.Equal(value.ReadOnlyMemory.ToArray(), back.ReadOnlyMemory.ToArray());
        Assert.Equal(value.Memory.ToArray(), back.Memory.ToArray());
        Assert.Equal(value.Guid, back.Guid);
        Assert.Equal(value.DateTime, back.DateTime);
        Assert.Equal(DateTimeKind.Utc, back.DateTime.Kind);
        Assert.Equal(value.DateTimeOffset, back.DateTimeOffset);
        Assert.Equal(value.DateTimeOffset.Offset, back.DateTimeOffset.Offset);
        Assert.Equal(value.TimeSpan, back.TimeSpan);
        Assert.Equal(value.Color, back.Color);
        Assert.Equal(value.Plain, back.Plain);
        Assert.Equal(value.NullableInt, back.NullableInt);
        Assert.Null(back.NullableGuid);
        Assert.Equal(value.IntArray, back.IntArray);
        Assert.Equal(value.StringList, back.StringList);
        Assert.Equal(value.ReadOnlyList, back.ReadOnlyList);
        Assert.Equal(value.IList, back.IList);
        Assert.Equal(value.Dictionary, back.Dictionary);
        Assert.Equal(value.ReadOnlyDictionary, back.ReadOnlyDictionary);
        Assert.Equal(value.HashSet, back.HashSet);
        Assert.Equal(value.ImmutableArray.ToArray(), back.ImmutableArray.ToArray());
        Assert.Equal(value.ImmutableDictionary, back.ImmutableDictionary);
        Assert.Equal(value.ImmutableList, back.ImmutableList);
        Assert.Equal(value.Pair, back.Pair);
        Assert.Equal(value.Tuple2, back.Tuple2);
        Assert.Equal(value.Tuple3, back.Tuple3);
        Assert.Equal(value.GrainId, back.GrainId);
        Assert.Equal(value.Silo, back.Silo);
        Assert.Equal(value.Nested, back.Nested);
        Assert.Equal(value.NestedList, back.NestedList);
        Assert.Equal(value.NestedCollections!["list"], back.NestedCollections!["list"]);
        Assert.IsType<InvalidOperationException>(back.Error);
        Assert.Equal("bad state", back.Error!.Message);
        Assert.Equal(value.Grain, back.Grain);
        Assert.Equal(value.Struct, back.Struct);
        Assert.Equal(value.NullableStruct, back.NullableStruct);
        Assert.Equal(value.Colors, back.Colors);
        Assert.Equal(2, back.Payloads!.Length);
        Assert.Equal(new byte[] { 1 }, back.Payloads[0].ToArray());
        Assert.Equal(0, back.Ignored);
    }

    [Fact]
    public void Null_members_and_null_elements_round_trip_as_null()
    {
        var value = new Everything { StringList = [null, null], ReadOnlyDictionary = new Dictionary<int, string?> { [5] = null } };
        var back = RoundTrip(value);
        Assert.Null(back.String);
        Assert.Null(back.Bytes);
        Assert.Null(back.IntArray);
        Assert.Null(back.Nested);
        Assert.Null(back.Error);
        Assert.Null(back.Grain);
        Assert.Null(back.Silo);
        Assert.Null(back.NullableStruct);
        Assert.Equal([null, null], back.StringList);
        Assert.Null(back.ReadOnlyDictionary![5]);
        Assert.True(back.ImmutableArray.IsEmpty);

        Assert.Null(RoundTrip<Point?>(null));
        Assert.Null(RoundTrip<Everything?>(null));
        Assert.Null(RoundTrip<int?>(null));
    }

    [Fact]
    public void Records_structs_and_constructor_members_round_trip()
    {
        Assert.Equal(new Point(-1, int.MaxValue), RoundTrip(new Point(-1, int.MaxValue)));
        Assert.Equal(new PointStruct(0.1, 0.2), RoundTrip(new PointStruct(0.1, 0.2)));
        Assert.Equal(new Quote("MSFT", 420.5m), RoundTrip(new Quote("MSFT", 420.5m)));

        var order = new Order("AAPL", 10, "limit") { Tags = ["a", "b"], Priority = 1 };
        var back = RoundTrip(order);
        Assert.Equal(order.Symbol, back.Symbol);
        Assert.Equal(order.Quantity, back.Quantity);
        Assert.Equal(order.Note, back.Note);
        Assert.Equal(order.Tags, back.Tags);
        Assert.Equal(1, back.Priority);

        var account = new Account("ann", 12.5m);
        account.History.Add("opened");
        var accountBack = RoundTrip(account);
        Assert.Equal("ann", accountBack.Owner);
        Assert.Equal(12.5m, accountBack.Balance);
        Assert.Equal(["opened"], accountBack.History);
    }

    [Fact]
    public void Private_read_only_and_init_only_members_round_trip()
    {
        var key = Guid.Parse("5a1d6c1e-0c55-4f0e-9d0b-3d2f3f0a9e11");
        var back = RoundTrip(Encapsulated.Create(key, 3, "named", -77, "set"));
        Assert.Equal(key, back.Key);
        Assert.Equal(3, back.Count);
        Assert.Equal("named", back.Name);
        Assert.Equal(-77, back.SecretValue);
        Assert.Equal("set", back.Init);
        Assert.Equal([3], back.Items);
    }

    [Fact]
    public void Missing_fields_keep_constructor_defaults_and_initializers()
    {
        // An empty object: every field missing.
        var empty = Empty();
        var order = ActorSerializer.Deserialize<Order>(empty);
        Assert.Equal("none", order.Note);
        Assert.Equal(5, order.Priority);
        Assert.Null(order.Symbol);
        Assert.Equal(0, order.Quantity);

        Assert.Empty(order.Tags);

        var encapsulated = ActorSerializer.Deserialize<Encapsulated>(empty);
        Assert.Equal("unnamed", encapsulated.Name);
        Assert.Equal("init-default", encapsulated.Init);
        Assert.Empty(encapsulated.Items);

        var v2 = ActorSerializer.Deserialize<ProfileV2>(empty);
        Assert.Equal("unknown@example.com", v2.Email);
        Assert.Equal(-1, v2.Counter);
    }

    private static byte[] Empty()
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new ActorWriter(buffer);
        writer.WriteFieldHeader(0, WireType.TagDelimited);
        writer.WriteEndObject();
        return buffer.WrittenSpan.ToArray();
    }

    [Fact]
    public void Generic_types_round_trip_through_their_generic_codecs()
    {
        var page = new Page<string> { Items = ["a", "b"], NextToken = "t", First = "a" };
        var back = RoundTrip(page);
        Assert.Equal(["a", "b"], back.Items);
        Assert.Equal("t", back.NextToken);
        Assert.Equal("a", back.First);

        Assert.Equal(new Pair<int, Guid>(1, Guid.Empty), RoundTrip(new Pair<int, Guid>(1, Guid.Empty)));

        var catalog = RoundTrip(new Catalog
        {
            Points = new Page<Point> { Items = [new Point(1, 2)], First = new Point(1, 2) },
            Entry = new Pair<string, int>("k", 3),
        });
        Assert.Equal([new Point(1, 2)], catalog.Points!.Items);
        Assert.Equal(new Point(1, 2), catalog.Points.First);
        Assert.Equal(new Pair<string, int>("k", 3), catalog.Entry);
    }

    [Fact]
    public void Nested_and_recursive_types_round_trip()
    {
        var tree = new TreeNode
        {
            Value = 1,
            Children = [new TreeNode { Value = 2 }, new TreeNode { Value = 3, Children = [new TreeNode { Value = 4 }] }],
        };
        var back = RoundTrip(tree);
        Assert.Equal(1, back.Value);
        Assert.Equal([2, 3], back.Children.Select(c => c.Value));
        Assert.Equal(4, back.Children[1].Children[0].Value);
    }

    [Fact]
    public void Base_class_members_are_serialized_with_the_derived_type()
    {
        var puppy = new Puppy { Name = "rex", Legs = 4, Breed = "collie", AgeWeeks = 9 };
        var back = RoundTrip(puppy);
        Assert.Equal("rex", back.Name);
        Assert.Equal(4, back.Legs);
        Assert.Equal("collie", back.Breed);
        Assert.Equal(9, back.AgeWeeks);

        var circle = RoundTrip(new Circle { Label = "c", Radius = 2 });
        Assert.Equal("c", circle.Label);
        Assert.Equal(2, circle.Radius);

        // A base-class reader of a derived writer's bytes reads the base members and skips the derived ones.
        var dogBytes = ActorSerializer.SerializeToArray(new Dog { Name = "d", Legs = 3, Breed = "pug" });
        var asAnimal = ActorSerializer.Deserialize<Animal>(dogBytes);
        Assert.Equal("d", asAnimal.Name);
        Assert.Equal(3, asAnimal.Legs);

        // And a derived reader of base bytes keeps its own members' defaults.
        var asPuppy = ActorSerializer.Deserialize<Puppy>(ActorSerializer.SerializeToArray(new Animal { Name = "a", Legs = 2 }));
        Assert.Equal("a", asPuppy.Name);
        Assert.Equal(2, asPuppy.Legs);
        Assert.Null(asPuppy.Breed);
    }

    [Fact]
    public void An_older_reader_skips_fields_added_by_a_newer_writer()
    {
        var v2 = new ProfileV2
        {
            Name = "ann",
            Age = 33,
            Email = "ann@example.com",
            Addresses = [new Point(1, 2)],
            Score = 0.5,
            Ratio = 0.25f,
            Home = new Point(9, 9),
            Nothing = null,
            Counter = long.MaxValue,
        };
        var v1 = ActorSerializer.Deserialize<ProfileV1>(ActorSerializer.SerializeToArray(v2));
        Assert.Equal("ann", v1.Name);
        Assert.Equal(33, v1.Age);
    }

    [Fact]
    public void A_newer_reader_gives_defaults_for_fields_an_older_writer_lacks()
    {
        var v2 = ActorSerializer.Deserialize<ProfileV2>(ActorSerializer.SerializeToArray(new ProfileV1 { Name = "bob", Age = 5 }));
        Assert.Equal("bob", v2.Name);
        Assert.Equal(5, v2.Age);
        Assert.Equal("unknown@example.com", v2.Email);
        Assert.Null(v2.Addresses);
        Assert.Equal(0, v2.Score);
        Assert.Equal(-1, v2.Counter);
    }

    [Fact]
    public void A_list_of_newer_objects_is_read_by_an_older_element_reader()
    {
        var bytes = ActorSerializer.SerializeToArray(new List<ProfileV2> { new() { Name = "a", Home = new Point(1, 1) }, new() { Name = "b" } });
        var back = ActorSerializer.Deserialize<List<ProfileV1>>(bytes);
        Assert.Equal(["a", "b"], back.Select(p => p.Name));
    }

    [Fact]
    public void Byte_payloads_are_copied_out_of_the_input_once()
    {
        var payload = new byte[] { 1, 2, 3, 4 };
        var bytes = ActorSerializer.SerializeToArray<ReadOnlyMemory<byte>>(payload);
        var back = ActorSerializer.Deserialize<ReadOnlyMemory<byte>>(bytes);
        Assert.Equal(payload, back.ToArray());

        // The result owns its bytes: changing the input frame afterwards does not change it.
        Array.Fill(bytes, (byte)0xEE);
        Assert.Equal(payload, back.ToArray());
    }

    [Fact]
    public void A_reader_over_a_handed_over_frame_returns_payload_slices_without_copying()
    {
        Assert.True(Actors.Invocation.GeneratedCodeRegistry.TryGetInterface(typeof(ICalculatorGrain), out var descriptor));
        var call = descriptor.CreateInvokable(2)!; // Payload(ReadOnlyMemory<byte>)
        call.GetType().GetField("Arg0")!.SetValue(call, new ReadOnlyMemory<byte>([7, 7, 7]));
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new ActorWriter(buffer);
        call.WriteArguments(ref writer);
        var frame = buffer.WrittenSpan.ToArray();

        var aliased = call.CreateEmpty();
        var reader = new ActorReader(frame, payloadsMayAlias: true);
        aliased.ReadArguments(ref reader);
        var slice = (ReadOnlyMemory<byte>)aliased.GetType().GetField("Arg0")!.GetValue(aliased)!;
        Assert.True(System.Runtime.InteropServices.MemoryMarshal.TryGetArray(slice, out var segment));
        Assert.Same(frame, segment.Array);
        Assert.Equal(new byte[] { 7, 7, 7 }, slice.ToArray());

        var copied = call.CreateEmpty();
        reader = new ActorReader(frame, payloadsMayAlias: false);
        copied.ReadArguments(ref reader);
        var copy = (ReadOnlyMemory<byte>)copied.GetType().GetField("Arg0")!.GetValue(copied)!;
        Assert.True(System.Runtime.InteropServices.MemoryMarshal.TryGetArray(copy, out var own));
        Assert.NotSame(frame, own.Array);
        Assert.Equal(new byte[] { 7, 7, 7 }, copy.ToArray());
    }

    [Fact]
    public void Deep_copies_share_no_mutable_state_and_immutable_values_are_not_copied()
    {
        var original = new Everything { StringList = ["a"], Nested = new Point(1, 2) };
        var copy = ActorSerializer.DeepCopy(original);
        Assert.NotSame(original, copy);
        Assert.NotSame(original.StringList, copy.StringList);
        copy.StringList!.Add("b");
        Assert.Single(original.StringList);

        // Grain references inside a copied value are kept as they are (no runtime needed).
        var runtime = new LoopbackCallRuntime();
        var withReference = new Everything { Grain = runtime.GetGrain<ICalculatorGrain>(new GrainId("calculator", "copy")) };
        Assert.Same(withReference.Grain, ActorSerializer.DeepCopy(withReference).Grain);

        var quote = new Quote("X", 1m);
        Assert.Same(quote, ActorSerializer.DeepCopy(quote));
        var text = "shared";
        Assert.Same(text, ActorSerializer.DeepCopy(text));
    }

    [Fact]
    public void Corrupt_input_gives_serialization_errors()
    {
        var bytes = ActorSerializer.SerializeToArray(new Point(1, 2));
        Assert.Throws<SerializationException>(() => ActorSerializer.Deserialize<Point>(bytes.AsSpan(0, bytes.Length - 1)));

        // A field whose wire type does not match the reader's type.
        var asText = ActorSerializer.SerializeToArray("text");
        var mismatch = Assert.Throws<SerializationException>(() => ActorSerializer.Deserialize<int>(asText));
        Assert.Contains("LengthPrefixed", mismatch.Message, StringComparison.Ordinal);

        // Trailing bytes.
        Assert.Throws<SerializationException>(() => ActorSerializer.Deserialize<int>([.. ActorSerializer.SerializeToArray(1), 0]));

        // A count larger than the input cannot allocate.
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new ActorWriter(buffer);
        writer.WriteFieldHeader(0, WireType.TagDelimited);
        CollectionFormat.WriteCount(ref writer, int.MaxValue);
        Assert.Throws<SerializationException>(() => ActorSerializer.Deserialize<List<int>>(buffer.WrittenSpan));
    }

    [Fact]
    public void Hostile_nesting_is_rejected_before_the_stack_runs_out()
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new ActorWriter(buffer);
        writer.WriteFieldHeader(0, WireType.TagDelimited);
        for (var i = 0; i < ActorReader.MaxDepth + 10; i++)
        {
            writer.WriteFieldHeader(1, WireType.TagDelimited);
            writer.WriteFieldHeader(0, WireType.VarInt);
            writer.WriteVarUInt64(1);
            writer.WriteFieldHeader(1, WireType.TagDelimited);
        }

        var error = Assert.Throws<SerializationException>(() => ActorSerializer.Deserialize<TreeNode>(buffer.WrittenSpan));
        Assert.Contains("nest", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_type_without_a_codec_is_named_in_the_error()
    {
        var error = Assert.Throws<SerializationException>(() => ActorSerializer.SerializeToArray(new NotSerializable()));
        Assert.Contains(nameof(NotSerializable), error.Message, StringComparison.Ordinal);
        Assert.Contains("[GenerateSerializer]", error.Message, StringComparison.Ordinal);
    }

    private sealed class NotSerializable
    {
    }
}
