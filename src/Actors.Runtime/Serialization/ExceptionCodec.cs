using System.Collections.Concurrent;
using System.Reflection;
using System.Runtime.ExceptionServices;

namespace Actors.Serialization;

/// <summary>
/// Codec of exceptions: type full name (1), message (2), stack trace (3) and inner exception (4).
/// Reading recreates the type when it is loaded in the reader's process, derives from
/// <see cref="Exception"/> and has a (string, Exception) or (string) constructor; otherwise it gives a
/// <see cref="RemoteGrainException"/> carrying the remote type name, message and stack trace.
/// Other properties of the exception are not carried.
/// </summary>
/// <remarks>Reflection is used on this error path only, and type lookups are cached. Thread-safe.</remarks>
public sealed class ExceptionCodec : IFieldCodec<Exception>
{
    /// <summary>Inner exceptions deeper than this are dropped.</summary>
    public const int MaxDepth = 8;

    public static readonly ExceptionCodec Instance = new();

    private static readonly ConcurrentDictionary<string, Type?> TypesByName = new(StringComparer.Ordinal);

    public WireType WireType => WireType.TagDelimited;

    public void Write(ref ActorWriter writer, Exception value) => Write(ref writer, value, 0);

    public Exception Read(ref ActorReader reader, WireType wireType)
    {
        FieldCodec.Expect(wireType, WireType.TagDelimited, "Exception");
        return Read(ref reader, 0);
    }

    private static void Write(ref ActorWriter writer, Exception value, int depth)
    {
        var typeName = value is RemoteGrainException { RemoteTypeName.Length: > 0 } remote
            ? remote.RemoteTypeName
            : value.GetType().FullName ?? value.GetType().Name;
        var stackTrace = value is RemoteGrainException { RemoteStackTrace: { } remoteStack } && value.StackTrace is null
            ? remoteStack
            : value.StackTrace;
        StringCodec.WriteField(ref writer, 1, typeName);
        StringCodec.WriteField(ref writer, 2, value.Message);
        StringCodec.WriteField(ref writer, 3, stackTrace);
        if (value.InnerException is { } inner && depth < MaxDepth)
        {
            writer.WriteFieldHeader(4, WireType.TagDelimited);
            Write(ref writer, inner, depth + 1);
        }

        writer.WriteEndObject();
    }

    private static Exception Read(ref ActorReader reader, int depth)
    {
        string? typeName = null;
        string? message = null;
        string? stackTrace = null;
        Exception? inner = null;
        while (true)
        {
            var (id, wt) = reader.ReadFieldHeader();
            if (wt == WireType.EndTagDelimited)
            {
                break;
            }

            switch (id)
            {
                case 1: typeName = StringCodec.ReadValue(ref reader, wt); break;
                case 2: message = StringCodec.ReadValue(ref reader, wt); break;
                case 3: stackTrace = StringCodec.ReadValue(ref reader, wt); break;
                case 4 when wt == WireType.TagDelimited && depth < MaxDepth:
                    inner = Read(ref reader, depth + 1);
                    break;
                default: reader.SkipField(wt); break;
            }
        }

        return Create(typeName ?? "System.Exception", message ?? string.Empty, stackTrace, inner);
    }

    /// <summary>Recreates an exception of the named type, or a <see cref="RemoteGrainException"/>.</summary>
    public static Exception Create(string typeName, string message, string? stackTrace, Exception? inner)
    {
        Exception? created = null;
        if (FindType(typeName) is { } type)
        {
            try
            {
                if (inner is not null && type.GetConstructor([typeof(string), typeof(Exception)]) is { } withInner)
                {
                    created = (Exception)withInner.Invoke([message, inner]);
                }
                else if (type.GetConstructor([typeof(string)]) is { } withMessage)
                {
                    created = (Exception)withMessage.Invoke([message]);
                }
                else if (type.GetConstructor([typeof(string), typeof(Exception)]) is { } withNullInner)
                {
                    created = (Exception)withNullInner.Invoke([message, null]);
                }
            }
            catch (TargetInvocationException)
            {
                created = null;
            }
        }

        created ??= new RemoteGrainException(typeName, message, stackTrace);
        if (!string.IsNullOrEmpty(stackTrace))
        {
            ExceptionDispatchInfo.SetRemoteStackTrace(created, stackTrace);
        }

        return created;
    }

    private static Type? FindType(string typeName) => TypesByName.GetOrAdd(typeName, static name =>
    {
        var type = Type.GetType(name, throwOnError: false);
        if (type is null)
        {
            foreach (var assembly in AppDomain.CurrentDomain.GetAssemblies())
            {
                type = assembly.GetType(name, throwOnError: false);
                if (type is not null)
                {
                    break;
                }
            }
        }

        return type is not null && typeof(Exception).IsAssignableFrom(type) && !type.IsAbstract ? type : null;
    });
}

/// <summary>Codec of a field declared as a specific exception type: written as any exception; a value
/// read back that is not a <typeparamref name="TException"/> (its type is unknown here) is an error.</summary>
public sealed class ExceptionCodec<TException> : IFieldCodec<TException>
    where TException : Exception
{
    public static readonly ExceptionCodec<TException> Instance = new();

    public WireType WireType => WireType.TagDelimited;

    public void Write(ref ActorWriter writer, TException value) => ExceptionCodec.Instance.Write(ref writer, value);

    public TException Read(ref ActorReader reader, WireType wireType)
    {
        var exception = ExceptionCodec.Instance.Read(ref reader, wireType);
        return exception as TException ?? throw new SerializationException(
            $"Read a {exception.GetType()} ('{exception.Message}') where a {typeof(TException)} was expected.");
    }
}
