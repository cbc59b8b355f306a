namespace Actors.Networking;

/// <summary>A request or response frame would exceed <c>MessagingOptions.MaxFrameBytes</c>. The call
/// fails; the connection and its other calls are unaffected.</summary>
public class FrameTooLargeException : Exception
{
    public FrameTooLargeException()
    {
    }

    public FrameTooLargeException(string message)
        : base(message)
    {
    }

    public FrameTooLargeException(string message, Exception inner)
        : base(message, inner)
    {
    }
}

/// <summary>Thrown by <see cref="FrameBuffer"/> as soon as a frame grows past the limit; turned into a
/// <see cref="FrameTooLargeException"/> naming the call by the sender.</summary>
internal sealed class FrameLimitExceeded(long limit) : Exception($"The frame exceeds {limit} bytes.")
{
    public long Limit { get; } = limit;
}
