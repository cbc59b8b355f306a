using System.Runtime.CompilerServices;

namespace Actors.Serialization;

/// <summary>
/// The codec for <typeparamref name="T"/>, looked up once per closed type. Generated module
/// initializers fill it for [GenerateSerializer] types (and for the closed collection types they
/// use); built-in codecs are found on first use. Generated code and the runtime read
/// <see cref="Instance"/> directly: after the first use the call path is a static field read.
/// </summary>
/// <remarks>Thread-safe. A codec is registered at most once per type: the first registration wins,
/// except <see cref="Register"/>, which a type's own generated code uses.</remarks>
public static class Codec<T>
{
    private static IFieldCodec<T>? instance;

    /// <summary>The codec; throws <see cref="SerializationException"/> naming the type if there is none.</summary>
    public static IFieldCodec<T> Instance
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Volatile.Read(ref instance) ?? Resolve();
    }

    /// <summary>Sets the codec of <typeparamref name="T"/> (generated code registers a type's own codec).</summary>
    public static void Register(IFieldCodec<T> codec)
    {
        ArgumentNullException.ThrowIfNull(codec);
        Volatile.Write(ref instance, codec);
    }

    /// <summary>Sets the codec unless one is already set. Returns true if this call set it.</summary>
    public static bool TryRegister(IFieldCodec<T> codec)
    {
        ArgumentNullException.ThrowIfNull(codec);
        return Interlocked.CompareExchange(ref instance, codec, null) is null;
    }

    /// <summary>True if a codec is registered or can be built for <typeparamref name="T"/>.</summary>
    public static bool IsAvailable
    {
        get
        {
            try
            {
                return Instance is not null;
            }
            catch (SerializationException)
            {
                return false;
            }
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static IFieldCodec<T> Resolve()
    {
        // A generated codec registers itself from its assembly's module initializer, which the CLR runs
        // on the first access to that module; a generic argument alone may not trigger it.
        CodecResolver.EnsureModuleInitialized(typeof(T));
        var existing = Volatile.Read(ref instance);
        if (existing is not null)
        {
            return existing;
        }

        if (CodecResolver.Create(typeof(T)) is IFieldCodec<T> created)
        {
            Interlocked.CompareExchange(ref instance, created, null);
            return Volatile.Read(ref instance)!;
        }

        throw new SerializationException(
            $"No serializer for type '{typeof(T)}'. Mark it [GenerateSerializer] with [Id(n)] on its members, " +
            "in a project that sets UseActorsCodeGen=true.");
    }
}
