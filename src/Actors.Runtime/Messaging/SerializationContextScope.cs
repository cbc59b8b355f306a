using Actors.Invocation;
using Actors.Serialization;

namespace Actors.Messaging;

/// <summary>Sets the ambient runtime used by grain-reference codecs while a message is read.</summary>
internal static class SerializationContextScope
{
    public static SerializationContext.Scope Enter(IGrainCallRuntime runtime) => SerializationContext.Enter(runtime);
}
