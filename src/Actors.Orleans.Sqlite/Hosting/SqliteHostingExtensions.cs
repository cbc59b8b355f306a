using Actors.Orleans.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Messaging;
using Orleans.Providers;
using Orleans.Runtime.Hosting;
using Orleans.Serialization;
using Orleans.Serialization.Serializers;
using Orleans.Storage;

namespace Orleans.Hosting;

/// <summary>Registers the SQLite providers of <c>Actors.Orleans.Sqlite</c> on silos and clients.</summary>
/// <remarks>Options are checked when the silo or client starts; a bad one fails the start with an
/// <c>OrleansConfigurationException</c> naming the setting.</remarks>
public static class SqliteHostingExtensions
{
    /// <summary>Silo: the membership table is the SQLite file <see cref="SqliteClusteringOptions.DatabasePath"/>,
    /// shared by every silo of the cluster (one cluster per <c>ClusterOptions.ClusterId</c>).</summary>
    public static ISiloBuilder UseSqliteClustering(this ISiloBuilder builder, Action<SqliteClusteringOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.Configure(configure);
        builder.Services.AddTransient<IConfigurationValidator, SqliteClusteringOptionsValidator>();
        builder.Services.AddSingleton<IMembershipTable, SqliteMembershipTable>();
        return builder;
    }

    /// <summary>Client: the gateways are the Active silos listed in the SQLite file
    /// <see cref="SqliteClusteringOptions.DatabasePath"/>.</summary>
    public static IClientBuilder UseSqliteClustering(this IClientBuilder builder, Action<SqliteClusteringOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.Configure(configure);
        builder.Services.AddTransient<IConfigurationValidator, SqliteClusteringOptionsValidator>();
        builder.Services.AddSingleton<IGatewayListProvider, SqliteGatewayListProvider>();
        return builder;
    }

    /// <summary>Silo: grain storage <paramref name="name"/> in a SQLite file, state serialized with
    /// Orleans' binary serializer (<c>[GenerateSerializer]</c>, <c>[Id]</c>).</summary>
    public static ISiloBuilder AddSqliteGrainStorage(this ISiloBuilder builder, string name, Action<SqliteGrainStorageOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.AddOptions<SqliteGrainStorageOptions>(name).Configure(configure);
        builder.Services.AddTransient<IConfigurationValidator>(
            services => new SqliteGrainStorageOptionsValidator(name, services.GetRequiredService<IOptionsMonitor<SqliteGrainStorageOptions>>()));
        builder.Services.AddGrainStorage(
            name,
            static (services, providerName) => new SqliteGrainStorage(
                providerName,
                services.GetRequiredService<IOptionsMonitor<SqliteGrainStorageOptions>>().Get(providerName),
                new OrleansGrainStorageSerializer(services.GetRequiredService<Serializer>()),
                services.GetRequiredService<IActivatorProvider>()));
        return builder;
    }

    /// <summary>Silo: the default grain storage ("Default") in a SQLite file.</summary>
    public static ISiloBuilder AddSqliteGrainStorageAsDefault(this ISiloBuilder builder, Action<SqliteGrainStorageOptions> configure) =>
        builder.AddSqliteGrainStorage(ProviderConstants.DEFAULT_STORAGE_PROVIDER_NAME, configure);

    /// <summary>Silo: SQLite clustering in <paramref name="clusterDatabasePath"/> and the default grain
    /// storage in <paramref name="grainStateDatabasePath"/>. Several silo processes on one machine
    /// given the same paths form one cluster.</summary>
    public static ISiloBuilder UseEmbeddedSqlite(this ISiloBuilder builder, string clusterDatabasePath, string grainStateDatabasePath) =>
        builder
            .UseSqliteClustering(options => options.DatabasePath = clusterDatabasePath)
            .AddSqliteGrainStorageAsDefault(options => options.DatabasePath = grainStateDatabasePath);

    /// <summary>Silo: <see cref="UseEmbeddedSqlite(ISiloBuilder, string, string)"/> with
    /// <c>&lt;dataDirectory&gt;/cluster.db</c> and <c>&lt;dataDirectory&gt;/grains.db</c>.</summary>
    public static ISiloBuilder UseEmbeddedSqlite(this ISiloBuilder builder, string dataDirectory)
    {
        if (string.IsNullOrWhiteSpace(dataDirectory))
        {
            throw new ArgumentException("The data directory of the embedded SQLite providers is empty; pass the folder that holds cluster.db and grains.db.", nameof(dataDirectory));
        }

        return builder.UseEmbeddedSqlite(Path.Combine(dataDirectory, "cluster.db"), Path.Combine(dataDirectory, "grains.db"));
    }

    /// <summary>Client: SQLite clustering in <paramref name="clusterDatabasePath"/>, the file the silos share.</summary>
    public static IClientBuilder UseEmbeddedSqlite(this IClientBuilder builder, string clusterDatabasePath) =>
        builder.UseSqliteClustering(options => options.DatabasePath = clusterDatabasePath);
}
