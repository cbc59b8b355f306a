using Actors.Persistence;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Actors.Hosting;

/// <summary>Grain storage providers, registered as keyed <see cref="IGrainStorage"/> singletons by name
/// ("Default" is used by a <see cref="PersistentStateAttribute"/> that names no provider).</summary>
public static class GrainStorageHostingExtensions
{
    /// <summary>The name used when a [PersistentState] names no provider.</summary>
    public const string DefaultProviderName = "Default";

    /// <summary>Adds in-memory grain storage named <paramref name="name"/> (state is lost when the process stops).</summary>
    public static ISiloBuilder AddMemoryGrainStorage(this ISiloBuilder builder, string name = DefaultProviderName)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        builder.Services.AddKeyedSingleton<IGrainStorage>(name, (_, _) => new MemoryGrainStorage(name));
        return builder;
    }

    /// <summary>Adds SQLite grain storage named <paramref name="name"/> in the file <paramref name="databasePath"/>.</summary>
    public static ISiloBuilder AddSqliteGrainStorage(this ISiloBuilder builder, string name, string databasePath) =>
        builder.AddSqliteGrainStorage(name, o => o.DatabasePath = databasePath);

    /// <summary>Adds SQLite grain storage named <paramref name="name"/>, configured from the section
    /// "Actors:Storage:&lt;name&gt;" and then by <paramref name="configure"/>.</summary>
    public static ISiloBuilder AddSqliteGrainStorage(this ISiloBuilder builder, string name, Action<SqliteGrainStorageOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(configure);
        var section = $"Actors:Storage:{name}";
        builder.Services.AddOptions<SqliteGrainStorageOptions>(name)
            .Bind(builder.Configuration.GetSection(section))
            .Configure(configure)
            .Validate(o => !string.IsNullOrWhiteSpace(o.DatabasePath), $"SqliteGrainStorageOptions.DatabasePath of grain storage '{name}' is empty; pass a file to AddSqliteGrainStorage or set {section}:DatabasePath.")
            .Validate(o => o.BusyTimeout > TimeSpan.Zero, $"SqliteGrainStorageOptions.BusyTimeout of grain storage '{name}' must be positive; set {section}:BusyTimeout.")
            .ValidateOnStart();
        builder.Services.AddKeyedSingleton<IGrainStorage>(
            name,
            (sp, _) => new SqliteGrainStorage(name, sp.GetRequiredService<Microsoft.Extensions.Options.IOptionsMonitor<SqliteGrainStorageOptions>>().Get(name)));
        return builder;
    }
}
