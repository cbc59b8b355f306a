namespace Actors.Configuration;

/// <summary>Transport and call settings, shared by silos and clients. Bound from "Actors:Messaging".</summary>
public sealed class MessagingOptions
{
    /// <summary>Default bound on a frame: 16 MiB.</summary>
    public const int DefaultMaxFrameBytes = 16 * 1024 * 1024;

    /// <summary>Largest frame (header plus body) sent or accepted, in bytes. Default 16 MiB. A call whose
    /// request or response would be larger fails with an error naming this setting.</summary>
    public int MaxFrameBytes { get; set; } = DefaultMaxFrameBytes;

    /// <summary>How long a caller waits for a response. Default 30 s.</summary>
    public TimeSpan ResponseTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Frames queued per connection before senders wait. Default 65536.</summary>
    public int SendQueueCapacity { get; set; } = 65536;

    /// <summary>Requests queued per activation before new ones are rejected. Default 10000.</summary>
    public int MaxEnqueuedRequestsPerActivation { get; set; } = 10_000;

    /// <summary>How long one connection attempt (TCP connect plus handshake) may take. Default 5 s.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>First wait after a failed connection attempt to an endpoint before trying it again. Default 100 ms.</summary>
    public TimeSpan ReconnectBackoffMin { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Longest wait between connection attempts to an endpoint (the backoff doubles up to it). Default 5 s.</summary>
    public TimeSpan ReconnectBackoffMax { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The wait after a failed connection attempt: <see cref="ReconnectBackoffMin"/> after the first
    /// (<paramref name="previous"/> null), then double the previous wait, up to <see cref="ReconnectBackoffMax"/>.</summary>
    internal TimeSpan NextReconnectBackoff(TimeSpan? previous) =>
        previous is { } wait ? TimeSpan.FromTicks(Math.Min(wait.Ticks * 2, ReconnectBackoffMax.Ticks)) : ReconnectBackoffMin;
}
