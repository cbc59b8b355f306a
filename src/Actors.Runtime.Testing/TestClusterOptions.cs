namespace Actors.Testing;

/// <summary>Settings of a <see cref="TestCluster"/>.</summary>
public sealed class TestClusterOptions
{
    /// <summary>Silos started by <see cref="TestCluster.DeployAsync"/>. Default 2.</summary>
    public int InitialSilosCount { get; set; } = 2;

    /// <summary>Silo names are this prefix plus an index ("silo0", "silo1", ...).</summary>
    public string SiloNamePrefix { get; set; } = "silo";

    /// <summary>Loopback address the silos listen on and advertise. Default 127.0.0.1.</summary>
    public string Host { get; set; } = "127.0.0.1";

    /// <summary>Start a connected client with the cluster. Default true.</summary>
    public bool StartClient { get; set; } = true;

    /// <summary>Configuration values for every silo and client host (e.g. "Actors:Messaging:ResponseTimeout" = "00:00:05").</summary>
    public IDictionary<string, string?> Configuration { get; } = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);

    /// <summary>Logging of every silo and client host (none by default), e.g. <c>l =&gt; l.AddConsole()</c> while debugging.</summary>
    public Action<Microsoft.Extensions.Logging.ILoggingBuilder>? ConfigureLogging { get; set; }

    /// <summary>How long <see cref="TestCluster.WaitForLivenessToStabilizeAsync"/> waits by default. Default 30 s.</summary>
    public TimeSpan StabilizationTimeout { get; set; } = TimeSpan.FromSeconds(30);
}
