using System.Collections.Immutable;
using Actors.Membership;
using Actors.Runtime.Tests.CodeGen;

namespace Actors.Runtime.Tests.Serialization;

[GenerateSerializer]
public enum Color : byte
{
    Red = 1,
    Green = 2,
    Blue = 200,
}

public enum Plain : long
{
    Min = long.MinValue,
    Zero = 0,
    Max = long.MaxValue,
}

/// <summary>Every supported member type.</summary>
[GenerateSerializer]
public sealed class Everything
{
    [Id(0)] public bool Bool { get; set; }
    [Id(1)] public byte Byte { get; set; }
    [Id(2)] public sbyte SByte { get; set; }
    [Id(3)] public short Short { get; set; }
    [Id(4)] public ushort UShort { get; set; }
    [Id(5)] public int Int { get; set; }
    [Id(6)] public uint UInt { get; set; }
    [Id(7)] public long Long { get; set; }
    [Id(8)] public ulong ULong { get; set; }
    [Id(9)] public char Char { get; set; }
    [Id(10)] public float Float { get; set; }
    [Id(11)] public double Double { get; set; }
    [Id(12)] public decimal Decimal { get; set; }
    [Id(13)] public string? String { get; set; }
    [Id(14)] public byte[]? Bytes { get; set; }
    [Id(15)] public ReadOnlyMemory<byte> ReadOnlyMemory { get; set; }
    [Id(16)] public Memory<byte> Memory { get; set; }
    [Id(17)] public Guid Guid { get; set; }
    [Id(18)] public DateTime DateTime { get; set; }
    [Id(19)] public DateTimeOffset DateTimeOffset { get; set; }
    [Id(20)] public TimeSpan TimeSpan { get; set; }
    [Id(21)] public Color Color { get; set; }
    [Id(22)] public Plain Plain { get; set; }
    [Id(23)] public int? NullableInt { get; set; }
    [Id(24)] public Guid? NullableGuid { get; set; }
    [Id(25)] public int[]? IntArray { get; set; }
    [Id(26)] public List<string?>? StringList { get; set; }
    [Id(27)] public IReadOnlyList<long>? ReadOnlyList { get; set; }
    [Id(28)] public IList<double>? IList { get; set; }
    [Id(29)] public Dictionary<string, int>? Dictionary { get; set; }
    [Id(30)] public IReadOnlyDictionary<int, string?>? ReadOnlyDictionary { get; set; }
    [Id(31)] public HashSet<Guid>? HashSet { get; set; }
    [Id(32)] public ImmutableArray<int> ImmutableArray { get; set; }
    [Id(33)] public ImmutableDictionary<string, long>? ImmutableDictionary { get; set; }
    [Id(34)] public ImmutableList<string>? ImmutableList { get; set; }
    [Id(35)] public KeyValuePair<string, int> Pair { get; set; }
    [Id(36)] public (int, string?) Tuple2 { get; set; }
    [Id(37)] public (long, bool, Color) Tuple3 { get; set; }
    [Id(38)] public GrainId GrainId { get; set; }
    [Id(39)] public SiloAddress? Silo { get; set; }
    [Id(40)] public Point? Nested { get; set; }
    [Id(41)] public List<Point>? NestedList { get; set; }
    [Id(42)] public Dictionary<string, List<int>>? NestedCollections { get; set; }
    [Id(43)] public Exception? Error { get; set; }
    [Id(44)] public ICalculatorGrain? Grain { get; set; }
    [Id(45)] public PointStruct Struct { get; set; }
    [Id(46)] public PointStruct? NullableStruct { get; set; }
    [Id(47)] public Color[]? Colors { get; set; }
    [Id(48)] public ReadOnlyMemory<byte>[]? Payloads { get; set; }

    // Not serialized: no [Id].
    public int Ignored { get; set; }
}

[GenerateSerializer]
public sealed record Point([property: Id(0)] int X, [property: Id(1)] int Y);

[GenerateSerializer]
public readonly record struct PointStruct([property: Id(0)] double X, [property: Id(1)] double Y);

/// <summary>A positional record with [Id] on the parameters and a defaulted parameter.</summary>
[GenerateSerializer]
public sealed record Order([Id(0)] string Symbol, [Id(1)] long Quantity, [Id(2)] string Note = "none")
{
    [Id(3)] public List<string> Tags { get; init; } = [];

    [Id(4)] public int Priority { get; set; } = 5;
}

[GenerateSerializer]
public class Animal
{
    [Id(0)] public string? Name { get; set; }

    [Id(1)] public int Legs { get; set; }
}

[GenerateSerializer]
public class Dog : Animal
{
    // The same id as a base member: ids are per class level.
    [Id(0)] public string? Breed { get; set; }
}

[GenerateSerializer]
public sealed class Puppy : Dog
{
    [Id(0)] public int AgeWeeks;
}

[GenerateSerializer]
public abstract class Shape
{
    [Id(0)] public string? Label { get; set; }
}

[GenerateSerializer]
public sealed class Circle : Shape
{
    [Id(0)] public double Radius { get; set; }
}

/// <summary>A get-only property set through the constructor.</summary>
[GenerateSerializer]
public sealed class Account
{
    public Account(string owner, decimal balance)
    {
        Owner = owner;
        Balance = balance;
    }

    [Id(0)] public string Owner { get; }

    [Id(1)] public decimal Balance { get; }

    [Id(2)] public readonly List<string> History = [];
}

[GenerateSerializer]
public sealed class TreeNode
{
    [Id(0)] public int Value { get; set; }

    [Id(1)] public List<TreeNode> Children { get; set; } = [];
}

[GenerateSerializer]
[Immutable]
public sealed record Quote([property: Id(0)] string Symbol, [property: Id(1)] decimal Price);

/// <summary>Version 1 of a contract.</summary>
[GenerateSerializer]
public sealed class ProfileV1
{
    [Id(0)] public string? Name { get; set; }

    [Id(1)] public int Age { get; set; }
}

/// <summary>Version 2: new fields of every wire type, and a default for a field V1 never writes.</summary>
[GenerateSerializer]
public sealed class ProfileV2
{
    [Id(0)] public string? Name { get; set; }

    [Id(1)] public int Age { get; set; }

    [Id(2)] public string Email { get; set; } = "unknown@example.com";

    [Id(3)] public List<Point>? Addresses { get; set; }

    [Id(4)] public double Score { get; set; }

    [Id(5)] public float Ratio { get; set; }

    [Id(6)] public Point? Home { get; set; }

    [Id(7)] public string? Nothing { get; set; }

    [Id(8)] public long Counter { get; set; } = -1;
}

/// <summary>Private, read-only and init-only members, reached through generated accessors.</summary>
[GenerateSerializer]
public sealed class Encapsulated
{
    [Id(0)] private int count;

    [Id(4)] public readonly Guid Key;

    public Encapsulated()
    {
    }

    private Encapsulated(Guid key, int count)
    {
        Key = key;
        this.count = count;
    }

    [Id(1)] public string Name { get; private set; } = "unnamed";

    [Id(2)] public List<int> Items { get; } = [];

    [Id(3)] private long Secret { get; set; }

    [Id(5)] public string Init { get; init; } = "init-default";

    public int Count => count;

    public long SecretValue => Secret;

    public static Encapsulated Create(Guid key, int count, string name, long secret, string init)
    {
        var value = new Encapsulated(key, count) { Name = name, Secret = secret, Init = init };
        value.Items.Add(count);
        return value;
    }
}

/// <summary>A generic serializable type: its codec is generic and closed on first use.</summary>
[GenerateSerializer]
public sealed class Page<TItem>
    where TItem : notnull
{
    [Id(0)] public List<TItem> Items { get; set; } = [];

    [Id(1)] public string? NextToken { get; set; }

    [Id(2)] public TItem? First { get; set; }
}

[GenerateSerializer]
public sealed record Pair<TLeft, TRight>([property: Id(0)] TLeft Left, [property: Id(1)] TRight Right);

[GenerateSerializer]
public sealed class Catalog
{
    [Id(0)] public Page<Point>? Points { get; set; }

    [Id(1)] public Pair<string, int>? Entry { get; set; }
}
