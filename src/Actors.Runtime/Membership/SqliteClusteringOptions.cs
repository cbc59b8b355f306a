namespace Actors.Membership;

/// <summary>Where the SQLite membership table lives. Several silo processes on one machine form a
/// cluster by naming the same <see cref="DatabasePath"/> and <see cref="ClusterId"/>.</summary>
public sealed class SqliteClusteringOptions
{
    /// <summary>The database file (created with its folder if missing). Required.</summary>
    public string DatabasePath { get; set; } = string.Empty;

    /// <summary>Separates clusters that share one file. Default "actors".</summary>
    public string ClusterId { get; set; } = "actors";

    /// <summary>How long a write waits for another process holding the write lock. Default 10 s.</summary>
    public TimeSpan BusyTimeout { get; set; } = TimeSpan.FromSeconds(10);
}
