using Actors.Membership;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Actors.Hosting;

/// <summary>
/// Clustering providers for silos and clients. A silo gets the table-based oracle
/// (<see cref="MembershipTableManager"/>) as its <see cref="IClusterMembershipService"/> and
/// <see cref="IMembershipLifecycle"/>; a client gets <see cref="ClientMembershipService"/>.
/// Timings bind from the configuration section <see cref="MembershipSection"/> and can be set with
/// <see cref="ConfigureMembership(ISiloBuilder, Action{ClusterMembershipOptions})"/>.
/// </summary>
public static class MembershipHostingExtensions
{
    /// <summary>The configuration section of <see cref="ClusterMembershipOptions"/>.</summary>
    public const string MembershipSection = "Actors:Membership";

    /// <summary>The configuration section of <see cref="SqliteClusteringOptions"/>.</summary>
    public const string SqliteClusteringSection = "Actors:Clustering:Sqlite";

    /// <summary>Cluster through <paramref name="table"/>, shared by every silo and client of an in-process cluster.</summary>
    public static ISiloBuilder UseInMemoryClustering(this ISiloBuilder builder, InMemoryMembershipTable table)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(table);
        AddTable(builder.Services, _ => table);
        AddSiloOracle(builder.Services, builder.Configuration);
        return builder;
    }

    /// <summary>Cluster through the SQLite file <paramref name="databasePath"/> (several processes may share it).</summary>
    public static ISiloBuilder UseSqliteClustering(this ISiloBuilder builder, string databasePath) =>
        builder.UseSqliteClustering(o => o.DatabasePath = databasePath);

    /// <summary>Cluster through a SQLite file configured by <paramref name="configure"/> (after the
    /// <see cref="SqliteClusteringSection"/> configuration section is bound).</summary>
    public static ISiloBuilder UseSqliteClustering(this ISiloBuilder builder, Action<SqliteClusteringOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        AddSqliteTable(builder.Services, builder.Configuration, configure);
        AddSiloOracle(builder.Services, builder.Configuration);
        return builder;
    }

    /// <summary>Sets membership timings (after the <see cref="MembershipSection"/> section is bound).</summary>
    public static ISiloBuilder ConfigureMembership(this ISiloBuilder builder, Action<ClusterMembershipOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.Configure(configure);
        return builder;
    }

    /// <summary>The client learns silos and gateways from <paramref name="table"/>.</summary>
    public static IClientBuilder UseInMemoryClustering(this IClientBuilder builder, InMemoryMembershipTable table)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(table);
        AddTable(builder.Services, _ => table);
        AddClientView(builder.Services, builder.Configuration);
        return builder;
    }

    /// <summary>The client learns silos and gateways from the SQLite file <paramref name="databasePath"/>.</summary>
    public static IClientBuilder UseSqliteClustering(this IClientBuilder builder, string databasePath) =>
        builder.UseSqliteClustering(o => o.DatabasePath = databasePath);

    /// <summary>The client learns silos and gateways from a SQLite file configured by <paramref name="configure"/>.</summary>
    public static IClientBuilder UseSqliteClustering(this IClientBuilder builder, Action<SqliteClusteringOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        AddSqliteTable(builder.Services, builder.Configuration, configure);
        AddClientView(builder.Services, builder.Configuration);
        return builder;
    }

    /// <summary>Sets the client's table refresh period and other timings.</summary>
    public static IClientBuilder ConfigureMembership(this IClientBuilder builder, Action<ClusterMembershipOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.Configure(configure);
        return builder;
    }

    private static void AddSqliteTable(IServiceCollection services, IConfiguration configuration, Action<SqliteClusteringOptions> configure)
    {
        services.AddOptions<SqliteClusteringOptions>()
            .Bind(configuration.GetSection(SqliteClusteringSection))
            .Configure(configure)
            .Validate(o => !string.IsNullOrWhiteSpace(o.DatabasePath), $"SqliteClusteringOptions.DatabasePath is empty; pass a file to UseSqliteClustering or set {SqliteClusteringSection}:DatabasePath.")
            .Validate(o => !string.IsNullOrWhiteSpace(o.ClusterId), $"SqliteClusteringOptions.ClusterId is empty; set {SqliteClusteringSection}:ClusterId.")
            .Validate(o => o.BusyTimeout > TimeSpan.Zero, $"SqliteClusteringOptions.BusyTimeout must be positive; set {SqliteClusteringSection}:BusyTimeout.")
            .ValidateOnStart();
        AddTable(services, sp => new SqliteMembershipTable(sp.GetRequiredService<IOptions<SqliteClusteringOptions>>().Value));
    }

    private static void AddTable(IServiceCollection services, Func<IServiceProvider, IMembershipTable> factory)
    {
        services.RemoveAll<IMembershipTable>();
        services.AddSingleton(factory);
    }

    private static void AddMembershipOptions(IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ClusterMembershipOptions>().Bind(configuration.GetSection(MembershipSection)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ClusterMembershipOptions>, ClusterMembershipOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
    }

    private static void AddSiloOracle(IServiceCollection services, IConfiguration configuration)
    {
        AddMembershipOptions(services, configuration);
        services.TryAddSingleton<MembershipTableManager>();
        services.RemoveAll<IClusterMembershipService>();
        services.RemoveAll<IMembershipLifecycle>();
        services.AddSingleton<IClusterMembershipService>(sp => sp.GetRequiredService<MembershipTableManager>());
        services.AddSingleton<IMembershipLifecycle>(sp => sp.GetRequiredService<MembershipTableManager>());
    }

    private static void AddClientView(IServiceCollection services, IConfiguration configuration)
    {
        AddMembershipOptions(services, configuration);
        services.TryAddSingleton<ClientMembershipService>();
        services.RemoveAll<IClusterMembershipService>();
        services.AddSingleton<IClusterMembershipService>(sp => sp.GetRequiredService<ClientMembershipService>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, ClientMembershipService>(sp => sp.GetRequiredService<ClientMembershipService>()));
    }
}
