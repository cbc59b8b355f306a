using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;

namespace Actors.Networking;

/// <summary>
/// One outgoing frame being built: a list of segments rented from <see cref="ArrayPool{T}.Shared"/>.
/// The first four bytes are reserved for the big-endian length prefix, written by <see cref="Complete"/>.
/// The body is serialized straight into these segments and the segments go to the socket as one
/// gather list, so a payload is copied exactly once on the sending side; a frame found oversize is
/// dropped before any byte of it reaches the socket.
/// </summary>
/// <remarks>Not thread-safe: owned by one writer, then by the connection's send loop, which returns it to the pool.</remarks>
internal sealed class FrameBuffer : IBufferWriter<byte>
{
    private const int FirstSegmentBytes = 1024;
    private const int LargeSegmentBytes = 64 * 1024;
    private readonly List<ArraySegment<byte>> completed = new(2);
    private byte[] current;
    private int currentUsed;
    private long completedBytes;

    public FrameBuffer(int maxFrameBytes)
    {
        MaxFrameBytes = maxFrameBytes;
        current = ArrayPool<byte>.Shared.Rent(FirstSegmentBytes);
        currentUsed = 4;
    }

    /// <summary>The bound on the frame (length prefix excluded); growing past it throws <see cref="FrameLimitExceeded"/>.</summary>
    public int MaxFrameBytes { get; }

    /// <summary>Bytes written so far, the 4-byte length prefix included.</summary>
    public long Length => completedBytes + currentUsed;

    public void Advance(int count)
    {
        Debug.Assert(count >= 0 && currentUsed + count <= current.Length, "Advance past the span handed out.");
        currentUsed += count;
        if (Length - 4 > MaxFrameBytes)
        {
            throw new FrameLimitExceeded(MaxFrameBytes);
        }
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return current.AsMemory(currentUsed);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return current.AsSpan(currentUsed);
    }

    /// <summary>Writes the length prefix and appends the segments to <paramref name="sendList"/>.</summary>
    public void Complete()
    {
        var bodyLength = checked((int)(Length - 4));
        var first = completed.Count > 0 ? completed[0].Array! : current;
        BinaryPrimitives.WriteInt32BigEndian(first, bodyLength);
    }

    public void AddSegmentsTo(List<ArraySegment<byte>> sendList)
    {
        sendList.AddRange(completed);
        if (currentUsed > 0)
        {
            sendList.Add(new ArraySegment<byte>(current, 0, currentUsed));
        }
    }

    /// <summary>Returns every segment to the pool. The buffer must not be used afterwards.</summary>
    public void Release()
    {
        foreach (var segment in completed)
        {
            ArrayPool<byte>.Shared.Return(segment.Array!);
        }

        completed.Clear();
        if (current.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(current);
            current = [];
        }

        currentUsed = 0;
        completedBytes = 0;
    }

    private void Ensure(int sizeHint)
    {
        if (sizeHint < 1)
        {
            sizeHint = 1;
        }

        if (current.Length - currentUsed >= sizeHint)
        {
            return;
        }

        if (Length - 4 + sizeHint > MaxFrameBytes)
        {
            throw new FrameLimitExceeded(MaxFrameBytes);
        }

        if (currentUsed > 0)
        {
            completed.Add(new ArraySegment<byte>(current, 0, currentUsed));
            completedBytes += currentUsed;
        }
        else if (current.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(current);
        }

        current = ArrayPool<byte>.Shared.Rent(Math.Max(sizeHint, completedBytes < LargeSegmentBytes ? 8 * 1024 : LargeSegmentBytes));
        currentUsed = 0;
    }
}
