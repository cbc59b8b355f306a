using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Actors.Serialization;

/// <summary>Codec of an enum: its underlying integer as a zig-zag <see cref="WireType.VarInt"/>.
/// Values are converted bit for bit, so every underlying type round-trips.</summary>
public sealed class EnumCodec<TEnum> : IFieldCodec<TEnum>
    where TEnum : struct, Enum
{
    public static readonly EnumCodec<TEnum> Instance = new();

    public WireType WireType => WireType.VarInt;

    public void Write(ref ActorWriter writer, TEnum value) => writer.WriteVarInt64(ToInt64(value));

    public TEnum Read(ref ActorReader reader, WireType wireType)
    {
        FieldCodec.Expect(wireType, WireType.VarInt, typeof(TEnum).Name);
        return FromInt64(reader.ReadVarInt64());
    }

    private static long ToInt64(TEnum value) => Unsafe.SizeOf<TEnum>() switch
    {
        1 => Unsafe.As<TEnum, sbyte>(ref value),
        2 => Unsafe.As<TEnum, short>(ref value),
        4 => Unsafe.As<TEnum, int>(ref value),
        _ => Unsafe.As<TEnum, long>(ref value),
    };

    private static TEnum FromInt64(long value)
    {
        switch (Unsafe.SizeOf<TEnum>())
        {
            case 1:
                var b = unchecked((byte)value);
                return Unsafe.As<byte, TEnum>(ref b);
            case 2:
                var s = unchecked((short)value);
                return Unsafe.As<short, TEnum>(ref s);
            case 4:
                var i = unchecked((int)value);
                return Unsafe.As<int, TEnum>(ref i);
            default:
                return Unsafe.As<long, TEnum>(ref value);
        }
    }
}

/// <summary>Codec of <see cref="Nullable{T}"/>: null is the field's <see cref="WireType.Null"/> header,
/// a value is framed as <typeparamref name="T"/>'s codec frames it.</summary>
public sealed class NullableCodec<T> : IFieldCodec<T?>
    where T : struct
{
    public static readonly NullableCodec<T> Instance = new();

    public WireType WireType => Codec<T>.Instance.WireType;

    public void Write(ref ActorWriter writer, T? value) => Codec<T>.Instance.Write(ref writer, value!.Value);

    public T? Read(ref ActorReader reader, WireType wireType) =>
        wireType == WireType.Null ? null : Codec<T>.Instance.Read(ref reader, wireType);
}

/// <summary>
/// The framing shared by collection codecs: a <see cref="WireType.TagDelimited"/> object holding the
/// count as field 1, then each element as field 2 (dictionaries: each key as field 2 followed by its
/// value as field 3), then the end marker. Null elements are <see cref="WireType.Null"/> headers.
/// </summary>
public static class CollectionFormat
{
    public const uint CountField = 1;
    public const uint ItemField = 2;
    public const uint ValueField = 3;

    public static void WriteCount(ref ActorWriter writer, int count)
    {
        writer.WriteFieldHeader(CountField, WireType.VarInt);
        writer.WriteVarUInt64((ulong)count);
    }

    public static void WriteItems<T>(ref ActorWriter writer, ReadOnlySpan<T> items)
    {
        WriteCount(ref writer, items.Length);
        foreach (var item in items)
        {
            FieldCodec.WriteField(ref writer, ItemField, item);
        }

        writer.WriteEndObject();
    }

    public static void WriteItems<T>(ref ActorWriter writer, IReadOnlyCollection<T> items)
    {
        WriteCount(ref writer, items.Count);
        foreach (var item in items)
        {
            FieldCodec.WriteField(ref writer, ItemField, item);
        }

        writer.WriteEndObject();
    }

    public static void WriteItems<T>(ref ActorWriter writer, ICollection<T> items)
    {
        WriteCount(ref writer, items.Count);
        foreach (var item in items)
        {
            FieldCodec.WriteField(ref writer, ItemField, item);
        }

        writer.WriteEndObject();
    }

    public static void WritePairs<TKey, TValue>(ref ActorWriter writer, IReadOnlyCollection<KeyValuePair<TKey, TValue>> pairs)
    {
        WriteCount(ref writer, pairs.Count);
        foreach (var pair in pairs)
        {
            FieldCodec.WriteField(ref writer, ItemField, pair.Key);
            FieldCodec.WriteField(ref writer, ValueField, pair.Value);
        }

        writer.WriteEndObject();
    }

    /// <summary>Reads the elements into an exactly sized array.</summary>
    public static T[] ReadArray<T>(ref ActorReader reader, WireType wireType, string typeName)
    {
        FieldCodec.Expect(wireType, WireType.TagDelimited, typeName);
        T[]? items = null;
        var n = 0;
        while (true)
        {
            var (id, wt) = reader.ReadFieldHeader();
            if (wt == WireType.EndTagDelimited)
            {
                break;
            }

            if (id == CountField && wt == WireType.VarInt && items is null)
            {
                var count = FieldCodec.Capacity(reader.ReadVarUInt64(), reader);
                items = count == 0 ? [] : new T[count];
            }
            else if (id == ItemField)
            {
                if (items is null || n >= items.Length)
                {
                    throw new SerializationException(
                        $"A {typeName} holds more elements than its count ({items?.Length.ToString() ?? "missing"}).");
                }

                items[n++] = FieldCodec.ReadValue<T>(ref reader, wt);
            }
            else
            {
                reader.SkipField(wt);
            }
        }

        items ??= [];
        if (n != items.Length)
        {
            throw new SerializationException($"A {typeName} declared {items.Length} elements but held {n}.");
        }

        return items;
    }

    /// <summary>Reads the elements into <paramref name="target"/>, created with the bounded count.</summary>
    public static TCollection ReadInto<TCollection, T>(ref ActorReader reader, WireType wireType, Func<int, TCollection> create, string typeName)
        where TCollection : ICollection<T>
    {
        FieldCodec.Expect(wireType, WireType.TagDelimited, typeName);
        TCollection? target = default;
        var created = false;
        while (true)
        {
            var (id, wt) = reader.ReadFieldHeader();
            if (wt == WireType.EndTagDelimited)
            {
                break;
            }

            if (id == CountField && wt == WireType.VarInt && !created)
            {
                target = create(FieldCodec.Capacity(reader.ReadVarUInt64(), reader));
                created = true;
            }
            else if (id == ItemField)
            {
                if (!created)
                {
                    target = create(0);
                    created = true;
                }

                target!.Add(FieldCodec.ReadValue<T>(ref reader, wt));
            }
            else
            {
                reader.SkipField(wt);
            }
        }

        return created ? target! : create(0);
    }

    /// <summary>Reads key/value pairs into a dictionary created with the bounded count.</summary>
    public static Dictionary<TKey, TValue> ReadDictionary<TKey, TValue>(ref ActorReader reader, WireType wireType, string typeName)
        where TKey : notnull
    {
        FieldCodec.Expect(wireType, WireType.TagDelimited, typeName);
        Dictionary<TKey, TValue>? target = null;
        TKey key = default!;
        var haveKey = false;
        while (true)
        {
            var (id, wt) = reader.ReadFieldHeader();
            if (wt == WireType.EndTagDelimited)
            {
                break;
            }

            if (id == CountField && wt == WireType.VarInt && target is null)
            {
                target = new Dictionary<TKey, TValue>(FieldCodec.Capacity(reader.ReadVarUInt64(), reader));
            }
            else if (id == ItemField)
            {
                key = FieldCodec.ReadValue<TKey>(ref reader, wt)
                    ?? throw new SerializationException($"A {typeName} holds a null key.");
                haveKey = true;
            }
            else if (id == ValueField)
            {
                if (!haveKey)
                {
                    throw new SerializationException($"A {typeName} holds a value without a key.");
                }

                target ??= [];
                target[key] = FieldCodec.ReadValue<TValue>(ref reader, wt);
                haveKey = false;
            }
            else
            {
                reader.SkipField(wt);
            }
        }

        return target ?? [];
    }
}

/// <summary>Codec of <c>T[]</c>.</summary>
public sealed class ArrayCodec<T> : IFieldCodec<T[]>
{
    public static readonly ArrayCodec<T> Instance = new();

    public WireType WireType => WireType.TagDelimited;

    public void Write(ref ActorWriter writer, T[] value) => CollectionFormat.WriteItems<T>(ref writer, value.AsSpan());

    public T[] Read(ref ActorReader reader, WireType wireType) => CollectionFormat.ReadArray<T>(ref reader, wireType, "T[]");
}

/// <summary>Codec of <see cref="List{T}"/>.</summary>
public sealed class ListCodec<T> : IFieldCodec<List<T>>
{
    public static readonly ListCodec<T> Instance = new();

    public WireType WireType => WireType.TagDelimited;

    public void Write(ref ActorWriter writer, List<T> value) =>
        CollectionFormat.WriteItems<T>(ref writer, CollectionsMarshal.AsSpan(value));

    public List<T> Read(ref ActorReader reader, WireType wireType) =>
        CollectionFormat.ReadInto<List<T>, T>(ref reader, wireType, static n => new List<T>(n), "List<T>");
}

/// <summary>Codec of <see cref="IReadOnlyList{T}"/>; reads an array.</summary>
public sealed class ReadOnlyListCodec<T> : IFieldCodec<IReadOnlyList<T>>
{
    public static readonly ReadOnlyListCodec<T> Instance = new();

    public WireType WireType => WireType.TagDelimited;

    public void Write(ref ActorWriter writer, IReadOnlyList<T> value) => CollectionFormat.WriteItems(ref writer, value);

    public IReadOnlyList<T> Read(ref ActorReader reader, WireType wireType) =>
        CollectionFormat.ReadArray<T>(ref reader, wireType, "IReadOnlyList<T>");
}

/// <summary>Codec of <see cref="IReadOnlyCollection{T}"/>; reads an array.</summary>
public sealed class ReadOnlyCollectionCodec<T> : IFieldCodec<IReadOnlyCollection<T>>
{
    public static readonly ReadOnlyCollectionCodec<T> Instance = new();

    public WireType WireType => WireType.TagDelimited;

    public void Write(ref ActorWriter writer, IReadOnlyCollection<T> value) => CollectionFormat.WriteItems(ref writer, value);

    public IReadOnlyCollection<T> Read(ref ActorReader reader, WireType wireType) =>
        CollectionFormat.ReadArray<T>(ref reader, wireType, "IReadOnlyCollection<T>");
}

/// <summary>Codec of <see cref="IList{T}"/>; reads a <see cref="List{T}"/>.</summary>
public sealed class IListCodec<T> : IFieldCodec<IList<T>>
{
    public static readonly IListCodec<T> Instance = new();

    public WireType WireType => WireType.TagDelimited;

    public void Write(ref ActorWriter writer, IList<T> value) => CollectionFormat.WriteItems(ref writer, value);

    public IList<T> Read(ref ActorReader reader, WireType wireType) =>
        CollectionFormat.ReadInto<List<T>, T>(ref reader, wireType, static n => new List<T>(n), "IList<T>");
}

/// <summary>Codec of <see cref="HashSet{T}"/> (read with the default comparer).</summary>
public sealed class HashSetCodec<T> : IFieldCodec<HashSet<T>>
{
    public static readonly HashSetCodec<T> Instance = new();

    public WireType WireType => WireType.TagDelimited;

    public void Write(ref ActorWriter writer, HashSet<T> value) => CollectionFormat.WriteItems<T>(ref writer, (IReadOnlyCollection<T>)value);

    public HashSet<T> Read(ref ActorReader reader, WireType wireType) =>
        CollectionFormat.ReadInto<HashSet<T>, T>(ref reader, wireType, static n => new HashSet<T>(n), "HashSet<T>");
}

/// <summary>Codec of <see cref="ImmutableArray{T}"/>; a default (uninitialized) array is written as empty.</summary>
public sealed class ImmutableArrayCodec<T> : IFieldCodec<ImmutableArray<T>>
{
    public static readonly ImmutableArrayCodec<T> Instance = new();

    public WireType WireType => WireType.TagDelimited;

    public void Write(ref ActorWriter writer, ImmutableArray<T> value) =>
        CollectionFormat.WriteItems(ref writer, value.IsDefault ? ReadOnlySpan<T>.Empty : value.AsSpan());

    public ImmutableArray<T> Read(ref ActorReader reader, WireType wireType) =>
        ImmutableCollectionsMarshal.AsImmutableArray(CollectionFormat.ReadArray<T>(ref reader, wireType, "ImmutableArray<T>"));
}

/// <summary>Codec of <see cref="ImmutableList{T}"/>.</summary>
public sealed class ImmutableListCodec<T> : IFieldCodec<ImmutableList<T>>
{
    public static readonly ImmutableListCodec<T> Instance = new();

    public WireType WireType => WireType.TagDelimited;

    public void Write(ref ActorWriter writer, ImmutableList<T> value) => CollectionFormat.WriteItems<T>(ref writer, (IReadOnlyCollection<T>)value);

    public ImmutableList<T> Read(ref ActorReader reader, WireType wireType) =>
        ImmutableList.Create(CollectionFormat.ReadArray<T>(ref reader, wireType, "ImmutableList<T>"));
}

/// <summary>Codec of <see cref="Dictionary{TKey, TValue}"/> (read with the default comparer).</summary>
public sealed class DictionaryCodec<TKey, TValue> : IFieldCodec<Dictionary<TKey, TValue>>
    where TKey : notnull
{
    public static readonly DictionaryCodec<TKey, TValue> Instance = new();

    public WireType WireType => WireType.TagDelimited;

    public void Write(ref ActorWriter writer, Dictionary<TKey, TValue> value) => CollectionFormat.WritePairs(ref writer, value);

    public Dictionary<TKey, TValue> Read(ref ActorReader reader, WireType wireType) =>
        CollectionFormat.ReadDictionary<TKey, TValue>(ref reader, wireType, "Dictionary<TKey, TValue>");
}

/// <summary>Codec of <see cref="IReadOnlyDictionary{TKey, TValue}"/>; reads a <see cref="Dictionary{TKey, TValue}"/>.</summary>
public sealed class ReadOnlyDictionaryCodec<TKey, TValue> : IFieldCodec<IReadOnlyDictionary<TKey, TValue>>
    where TKey : notnull
{
    public static readonly ReadOnlyDictionaryCodec<TKey, TValue> Instance = new();

    public WireType WireType => WireType.TagDelimited;

    public void Write(ref ActorWriter writer, IReadOnlyDictionary<TKey, TValue> value) => CollectionFormat.WritePairs(ref writer, value);

    public IReadOnlyDictionary<TKey, TValue> Read(ref ActorReader reader, WireType wireType) =>
        CollectionFormat.ReadDictionary<TKey, TValue>(ref reader, wireType, "IReadOnlyDictionary<TKey, TValue>");
}

/// <summary>Codec of <see cref="IDictionary{TKey, TValue}"/>; reads a <see cref="Dictionary{TKey, TValue}"/>.</summary>
public sealed class IDictionaryCodec<TKey, TValue> : IFieldCodec<IDictionary<TKey, TValue>>
    where TKey : notnull
{
    public static readonly IDictionaryCodec<TKey, TValue> Instance = new();

    public WireType WireType => WireType.TagDelimited;

    public void Write(ref ActorWriter writer, IDictionary<TKey, TValue> value)
    {
        CollectionFormat.WriteCount(ref writer, value.Count);
        foreach (var pair in value)
        {
            FieldCodec.WriteField(ref writer, CollectionFormat.ItemField, pair.Key);
            FieldCodec.WriteField(ref writer, CollectionFormat.ValueField, pair.Value);
        }

        writer.WriteEndObject();
    }

    public IDictionary<TKey, TValue> Read(ref ActorReader reader, WireType wireType) =>
        CollectionFormat.ReadDictionary<TKey, TValue>(ref reader, wireType, "IDictionary<TKey, TValue>");
}

/// <summary>Codec of <see cref="ImmutableDictionary{TKey, TValue}"/> (read with the default comparers).</summary>
public sealed class ImmutableDictionaryCodec<TKey, TValue> : IFieldCodec<ImmutableDictionary<TKey, TValue>>
    where TKey : notnull
{
    public static readonly ImmutableDictionaryCodec<TKey, TValue> Instance = new();

    public WireType WireType => WireType.TagDelimited;

    public void Write(ref ActorWriter writer, ImmutableDictionary<TKey, TValue> value) => CollectionFormat.WritePairs(ref writer, value);

    public ImmutableDictionary<TKey, TValue> Read(ref ActorReader reader, WireType wireType) =>
        CollectionFormat.ReadDictionary<TKey, TValue>(ref reader, wireType, "ImmutableDictionary<TKey, TValue>").ToImmutableDictionary();
}

/// <summary>Codec of <see cref="KeyValuePair{TKey, TValue}"/>: an object with key (1) and value (2).</summary>
public sealed class KeyValuePairCodec<TKey, TValue> : IFieldCodec<KeyValuePair<TKey, TValue>>
{
    public static readonly KeyValuePairCodec<TKey, TValue> Instance = new();

    public WireType WireType => WireType.TagDelimited;

    public void Write(ref ActorWriter writer, KeyValuePair<TKey, TValue> value)
    {
        FieldCodec.WriteField(ref writer, 1, value.Key);
        FieldCodec.WriteField(ref writer, 2, value.Value);
        writer.WriteEndObject();
    }

    public KeyValuePair<TKey, TValue> Read(ref ActorReader reader, WireType wireType)
    {
        FieldCodec.Expect(wireType, WireType.TagDelimited, "KeyValuePair");
        TKey key = default!;
        TValue value = default!;
        while (true)
        {
            var (id, wt) = reader.ReadFieldHeader();
            if (wt == WireType.EndTagDelimited)
            {
                return new KeyValuePair<TKey, TValue>(key, value);
            }

            switch (id)
            {
                case 1: key = FieldCodec.ReadValue<TKey>(ref reader, wt); break;
                case 2: value = FieldCodec.ReadValue<TValue>(ref reader, wt); break;
                default: reader.SkipField(wt); break;
            }
        }
    }
}

/// <summary>Codec of a 2-tuple: an object with items 1 and 2.</summary>
public sealed class ValueTupleCodec<T1, T2> : IFieldCodec<ValueTuple<T1, T2>>
{
    public static readonly ValueTupleCodec<T1, T2> Instance = new();

    public WireType WireType => WireType.TagDelimited;

    public void Write(ref ActorWriter writer, (T1, T2) value)
    {
        FieldCodec.WriteField(ref writer, 1, value.Item1);
        FieldCodec.WriteField(ref writer, 2, value.Item2);
        writer.WriteEndObject();
    }

    public (T1, T2) Read(ref ActorReader reader, WireType wireType)
    {
        FieldCodec.Expect(wireType, WireType.TagDelimited, "ValueTuple");
        (T1, T2) result = default;
        while (true)
        {
            var (id, wt) = reader.ReadFieldHeader();
            if (wt == WireType.EndTagDelimited)
            {
                return result;
            }

            switch (id)
            {
                case 1: result.Item1 = FieldCodec.ReadValue<T1>(ref reader, wt); break;
                case 2: result.Item2 = FieldCodec.ReadValue<T2>(ref reader, wt); break;
                default: reader.SkipField(wt); break;
            }
        }
    }
}

/// <summary>Codec of a 3-tuple: an object with items 1, 2 and 3.</summary>
public sealed class ValueTupleCodec<T1, T2, T3> : IFieldCodec<ValueTuple<T1, T2, T3>>
{
    public static readonly ValueTupleCodec<T1, T2, T3> Instance = new();

    public WireType WireType => WireType.TagDelimited;

    public void Write(ref ActorWriter writer, (T1, T2, T3) value)
    {
        FieldCodec.WriteField(ref writer, 1, value.Item1);
        FieldCodec.WriteField(ref writer, 2, value.Item2);
        FieldCodec.WriteField(ref writer, 3, value.Item3);
        writer.WriteEndObject();
    }

    public (T1, T2, T3) Read(ref ActorReader reader, WireType wireType)
    {
        FieldCodec.Expect(wireType, WireType.TagDelimited, "ValueTuple");
        (T1, T2, T3) result = default;
        while (true)
        {
            var (id, wt) = reader.ReadFieldHeader();
            if (wt == WireType.EndTagDelimited)
            {
                return result;
            }

            switch (id)
            {
                case 1: result.Item1 = FieldCodec.ReadValue<T1>(ref reader, wt); break;
                case 2: result.Item2 = FieldCodec.ReadValue<T2>(ref reader, wt); break;
                case 3: result.Item3 = FieldCodec.ReadValue<T3>(ref reader, wt); break;
                default: reader.SkipField(wt); break;
            }
        }
    }
}
