using System.Runtime.ExceptionServices;
using Actors.Serialization;

namespace Actors.Messaging;

/// <summary>
/// Writes an exception into a response body and rebuilds it on the caller: the caller gets the same
/// exception type when it can load it and the type has a (string) constructor, else a
/// <see cref="RemoteGrainException"/> carrying the type name; the message and the remote stack trace
/// are kept. Layout: <c>assemblyQualifiedTypeName(string) fullTypeName(string) message(string) stackTrace(string)</c>.
/// </summary>
/// <remarks>Reflection is used only here, on the failure path, never on the call path.</remarks>
internal static class RemoteExceptionCodec
{
    public static void Write(ref ActorWriter writer, Exception exception)
    {
        var type = exception.GetType();
        writer.WriteString(type.AssemblyQualifiedName ?? type.FullName ?? type.Name);
        writer.WriteString(type.FullName ?? type.Name);
        writer.WriteString(exception.Message);
        writer.WriteString(exception.StackTrace ?? string.Empty);
    }

    public static Exception Read(ref ActorReader reader)
    {
        var assemblyQualifiedName = reader.ReadString();
        var fullName = reader.ReadString();
        var message = reader.ReadString();
        var stackTrace = reader.ReadString();
        var rebuilt = TryCreate(assemblyQualifiedName, message) ?? new RemoteGrainException(fullName, message, stackTrace);
        if (stackTrace.Length > 0)
        {
            try
            {
                ExceptionDispatchInfo.SetRemoteStackTrace(rebuilt, stackTrace + Environment.NewLine + "--- End of remote stack trace ---" + Environment.NewLine);
            }
            catch (InvalidOperationException)
            {
                // The exception already carries a stack trace; keep it.
            }
        }

        return rebuilt;
    }

    private static Exception? TryCreate(string assemblyQualifiedName, string message)
    {
        try
        {
            var type = Type.GetType(assemblyQualifiedName, throwOnError: false);
            if (type is null || !typeof(Exception).IsAssignableFrom(type) || type.IsAbstract)
            {
                return null;
            }

            if (type == typeof(OperationCanceledException) || type == typeof(TaskCanceledException))
            {
                return (Exception)Activator.CreateInstance(type, message)!;
            }

            var constructor = type.GetConstructor([typeof(string)]);
            return constructor?.Invoke([message]) as Exception;
        }
        catch (Exception)
        {
            return null;
        }
    }
}
