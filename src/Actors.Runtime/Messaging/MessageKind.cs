namespace Actors.Messaging;

/// <summary>The kind of a frame. Carried on the wire: values never change.</summary>
internal enum MessageKind : byte
{
    Handshake = 1,
    HandshakeAccept = 2,
    HandshakeReject = 3,
    Request = 4,
    OneWay = 5,
    Response = 6,
    Cancel = 7,
    Ping = 8,
    Pong = 9,
    SystemRequest = 10,
}

/// <summary>Per-message flags. Carried on the wire: values never change.</summary>
[Flags]
internal enum MessageFlags : byte
{
    None = 0,
    OneWay = 1,
    AlwaysInterleave = 2,
    ReadOnly = 4,

    /// <summary>The caller may cancel: the target creates a token source for the call.</summary>
    Cancellable = 8,
}

/// <summary>How a response ends. Carried on the wire: values never change.</summary>
internal enum ResponseStatus : byte
{
    /// <summary>The body is the result (written by <see cref="Invocation.GrainInvokable.WriteResult"/>).</summary>
    Ok = 0,

    /// <summary>The body is an exception (<see cref="RemoteExceptionCodec"/>).</summary>
    Exception = 1,

    /// <summary>The target silo has no activation of the grain and is not its chosen silo: look it up again.</summary>
    NotHere = 2,
}

/// <summary>System operations carried by <see cref="MessageKind.SystemRequest"/> frames (directory traffic).</summary>
internal enum SystemOperation : byte
{
    /// <summary>Directory owner: where is the grain? Place it if it has no live entry.</summary>
    DirectoryLookupOrPlace = 1,

    /// <summary>Directory owner: record that a silo hosts the grain (unless another live silo does).</summary>
    DirectoryRegister = 2,

    /// <summary>Directory owner: forget the entry if it still names the given silo.</summary>
    DirectoryUnregister = 3,
}
