using Actors.Serialization;

namespace Actors.Messaging;

/// <summary>
/// The body of an exception response: one <see cref="ExceptionCodec"/> object (type name, message, stack
/// trace, inner exceptions). The caller gets the same exception type when it knows it, else a
/// <see cref="RemoteGrainException"/> with the remote type name and message.
/// </summary>
internal static class RemoteExceptionCodec
{
    public static void Write(ref ActorWriter writer, Exception exception) => ExceptionCodec.Instance.Write(ref writer, exception);

    public static Exception Read(ref ActorReader reader) => ExceptionCodec.Instance.Read(ref reader, WireType.TagDelimited);
}
