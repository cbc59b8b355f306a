using Orleans;
using Orleans.Runtime;

namespace Actors.Orleans.Sqlite;

/// <summary>Where a SQLite grain storage provider keeps its file.</summary>
public sealed class SqliteGrainStorageOptions
{
    /// <summary>The database file (created with its folder if missing). Several silo processes may
    /// share it. Required.</summary>
    public string DatabasePath { get; set; } = string.Empty;

    /// <summary>How long a write waits for another process holding the file's write lock. Default 10 s.</summary>
    public TimeSpan BusyTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Throws <see cref="OrleansConfigurationException"/> naming the first bad setting of
    /// the grain storage <paramref name="name"/>.</summary>
    public void Validate(string name)
    {
        if (string.IsNullOrWhiteSpace(DatabasePath))
        {
            throw new OrleansConfigurationException(
                $"{nameof(SqliteGrainStorageOptions)}.{nameof(DatabasePath)} of grain storage '{name}' is empty; set it to the SQLite file that holds the grain state.");
        }

        if (BusyTimeout <= TimeSpan.Zero)
        {
            throw new OrleansConfigurationException(
                $"{nameof(SqliteGrainStorageOptions)}.{nameof(BusyTimeout)} of grain storage '{name}' is {BusyTimeout}; it must be positive.");
        }
    }
}

/// <summary>Checks the <see cref="SqliteGrainStorageOptions"/> of one named provider when the silo starts.</summary>
internal sealed class SqliteGrainStorageOptionsValidator(string name, Microsoft.Extensions.Options.IOptionsMonitor<SqliteGrainStorageOptions> options) : IConfigurationValidator
{
    public void ValidateConfiguration() => options.Get(name).Validate(name);
}
