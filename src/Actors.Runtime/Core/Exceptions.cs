namespace Actors;

/// <summary>A grain call got no response within the response timeout.</summary>
public class GrainCallTimeoutException : TimeoutException
{
    public GrainCallTimeoutException()
    {
    }

    public GrainCallTimeoutException(string message)
        : base(message)
    {
    }

    public GrainCallTimeoutException(string message, Exception inner)
        : base(message, inner)
    {
    }
}

/// <summary>The silo that hosts (or must host) the target grain is dead, unknown or unreachable.</summary>
public class SiloUnavailableException : Exception
{
    public SiloUnavailableException()
    {
    }

    public SiloUnavailableException(string message)
        : base(message)
    {
    }

    public SiloUnavailableException(string message, Exception inner)
        : base(message, inner)
    {
    }
}

/// <summary>A grain threw an exception whose type is not known to the caller; type name and message are kept.</summary>
public class RemoteGrainException : Exception
{
    public RemoteGrainException()
    {
    }

    public RemoteGrainException(string message)
        : base(message)
    {
    }

    public RemoteGrainException(string message, Exception inner)
        : base(message, inner)
    {
    }

    public RemoteGrainException(string remoteTypeName, string message, string? remoteStackTrace)
        : base(message)
    {
        RemoteTypeName = remoteTypeName;
        RemoteStackTrace = remoteStackTrace;
    }

    /// <summary>Full name of the exception type thrown by the grain.</summary>
    public string RemoteTypeName { get; } = string.Empty;

    public string? RemoteStackTrace { get; }
}

/// <summary>A persistent-state write found a newer ETag in storage: another activation wrote first.</summary>
public class InconsistentStateException : Exception
{
    public InconsistentStateException()
    {
    }

    public InconsistentStateException(string message)
        : base(message)
    {
    }

    public InconsistentStateException(string message, Exception inner)
        : base(message, inner)
    {
    }

    public InconsistentStateException(string message, string? storedEtag, string? currentEtag)
        : base(message)
    {
        StoredEtag = storedEtag;
        CurrentEtag = currentEtag;
    }

    /// <summary>The ETag found in storage.</summary>
    public string? StoredEtag { get; }

    /// <summary>The ETag the activation held.</summary>
    public string? CurrentEtag { get; }
}
