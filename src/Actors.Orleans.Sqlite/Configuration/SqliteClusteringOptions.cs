using Orleans;
using Orleans.Runtime;

namespace Actors.Orleans.Sqlite;

/// <summary>Where the SQLite membership table lives, for silos (the table) and clients (the gateway list).</summary>
/// <remarks>The cluster id is Orleans' <c>ClusterOptions.ClusterId</c>; one file can hold several clusters.</remarks>
public sealed class SqliteClusteringOptions
{
    /// <summary>The database file every silo and client of the cluster shares (created with its
    /// folder if missing). Required.</summary>
    public string DatabasePath { get; set; } = string.Empty;

    /// <summary>How long a write waits for another process holding the file's write lock. Default 10 s.</summary>
    public TimeSpan BusyTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Clients: how old the gateway list may get before it is read again. Default 30 s.</summary>
    public TimeSpan MaxStaleness { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Throws <see cref="OrleansConfigurationException"/> naming the first bad setting.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(DatabasePath))
        {
            throw new OrleansConfigurationException(
                $"{nameof(SqliteClusteringOptions)}.{nameof(DatabasePath)} is empty; set it to the SQLite file that every silo and client of the cluster shares.");
        }

        if (BusyTimeout <= TimeSpan.Zero)
        {
            throw new OrleansConfigurationException(
                $"{nameof(SqliteClusteringOptions)}.{nameof(BusyTimeout)} is {BusyTimeout}; it must be positive.");
        }

        if (MaxStaleness <= TimeSpan.Zero)
        {
            throw new OrleansConfigurationException(
                $"{nameof(SqliteClusteringOptions)}.{nameof(MaxStaleness)} is {MaxStaleness}; it must be positive.");
        }
    }
}

/// <summary>Checks <see cref="SqliteClusteringOptions"/> when the silo or client starts.</summary>
internal sealed class SqliteClusteringOptionsValidator(Microsoft.Extensions.Options.IOptions<SqliteClusteringOptions> options) : IConfigurationValidator
{
    public void ValidateConfiguration() => options.Value.Validate();
}
