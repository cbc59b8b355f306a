using Actors.Catalog;
using Actors.Client;
using Actors.Configuration;
using Actors.GrainDirectory;
using Actors.Invocation;
using Actors.Membership;
using Actors.Networking;
using Actors.Placement;
using Actors.Runtime;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Actors.Hosting;

/// <summary>
/// <c>builder.UseActors(silo =&gt; ...)</c> and <c>builder.UseActorsClient(client =&gt; ...)</c> on the generic host.
/// Options bind from the configuration sections "Actors:Silo", "Actors:Messaging", "Actors:GrainCollection"
/// and "Actors:Client" and are validated at start.
/// </summary>
/// <remarks>
/// Provider conventions: a clustering provider registers <see cref="IClusterMembershipService"/> and
/// <see cref="IMembershipLifecycle"/> (the silo calls JoinAsync once listening, BecomeActiveAsync once it
/// can host grains, ShutdownAsync on a graceful stop, Abort on a kill); it may use the
/// <see cref="ISiloProber"/>, <see cref="ISiloTerminator"/> and <see cref="ILocalSiloDetails"/> registered
/// here. Without one, membership is static: this silo plus <see cref="SiloOptions.Peers"/>, or a shared
/// <see cref="StaticMembershipSource"/> registered by <c>UseStaticMembership</c>. Storage providers
/// register keyed <see cref="Persistence.IGrainStorage"/> singletons.
/// </remarks>
public static class ActorsHostingExtensions
{
    public const string SiloSection = "Actors:Silo";
    public const string MessagingSection = "Actors:Messaging";
    public const string GrainCollectionSection = "Actors:GrainCollection";
    public const string ClientSection = "Actors:Client";

    public static HostApplicationBuilder UseActors(this HostApplicationBuilder builder, Action<ISiloBuilder> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddActorsSilo(builder.Configuration, configure);
        return builder;
    }

    public static IHostApplicationBuilder UseActors(this IHostApplicationBuilder builder, Action<ISiloBuilder> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddActorsSilo(builder.Configuration, configure);
        return builder;
    }

    public static IHostBuilder UseActors(this IHostBuilder builder, Action<ISiloBuilder> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.ConfigureServices((context, services) => services.AddActorsSilo(context.Configuration, configure));
    }

    public static HostApplicationBuilder UseActorsClient(this HostApplicationBuilder builder, Action<IClientBuilder> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddActorsClient(builder.Configuration, configure);
        return builder;
    }

    public static IHostApplicationBuilder UseActorsClient(this IHostApplicationBuilder builder, Action<IClientBuilder> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddActorsClient(builder.Configuration, configure);
        return builder;
    }

    public static IHostBuilder UseActorsClient(this IHostBuilder builder, Action<IClientBuilder> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.ConfigureServices((context, services) => services.AddActorsClient(context.Configuration, configure));
    }

    /// <summary>Registers a silo (the services behind <c>UseActors</c>).</summary>
    public static IServiceCollection AddActorsSilo(this IServiceCollection services, IConfiguration configuration, Action<ISiloBuilder> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        AddCommonOptions(services, configuration);
        services.AddOptions<SiloOptions>().Bind(configuration.GetSection(SiloSection)).ValidateOnStart();
        services.AddOptions<GrainCollectionOptions>().Bind(configuration.GetSection(GrainCollectionSection)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SiloOptions>, SiloOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<GrainCollectionOptions>, GrainCollectionOptionsValidator>());

        configure(new SiloBuilder(services, configuration));

        services.TryAddSingleton<NetworkFaultInjector>();
        services.TryAddSingleton<ILocalSiloDetails, LocalSiloDetails>();
        services.TryAddSingleton<GrainTypeResolver>();
        services.TryAddSingleton<PlacementService>();
        services.TryAddSingleton<ActivationCatalog>();
        services.TryAddSingleton<SiloConnectionManager>();
        services.TryAddSingleton<LocalGrainDirectory>();
        services.TryAddSingleton<SiloCallRuntime>();
        services.TryAddSingleton<IGrainCallRuntime>(sp => sp.GetRequiredService<SiloCallRuntime>());
        services.TryAddSingleton<IGrainFactory>(sp => sp.GetRequiredService<SiloCallRuntime>().GrainFactory);
        services.TryAddSingleton<ISiloProber, SiloProber>();
        services.TryAddSingleton<ISiloTerminator, SiloTerminator>();

        // Static membership unless a clustering provider registered its own.
        services.TryAddSingleton(sp =>
        {
            var peers = sp.GetRequiredService<IOptions<SiloOptions>>().Value.Peers
                .Select(p => EndpointParser.TryParse(p, out var host, out var port) ? (host, port) : throw new OptionsValidationException(
                    nameof(SiloOptions), typeof(SiloOptions), [$"SiloOptions.Peers entry '{p}' is not 'host:port'."]));
            return StaticMembershipSource.FromPeers(peers);
        });
        services.TryAddSingleton(sp => new StaticClusterMembershipService(
            sp.GetRequiredService<StaticMembershipSource>(), sp.GetRequiredService<ILocalSiloDetails>()));
        services.TryAddSingleton<IClusterMembershipService>(sp => sp.GetRequiredService<StaticClusterMembershipService>());
        services.TryAddSingleton<IMembershipLifecycle>(sp => sp.GetRequiredService<StaticClusterMembershipService>());

        services.TryAddSingleton(sp => new Silo(
            sp.GetRequiredService<IOptions<SiloOptions>>(),
            sp.GetRequiredService<IOptions<MessagingOptions>>(),
            sp.GetRequiredService<ILocalSiloDetails>(),
            sp.GetRequiredService<IClusterMembershipService>(),
            sp.GetService<IMembershipLifecycle>(),
            sp.GetRequiredService<SiloConnectionManager>(),
            sp.GetRequiredService<ActivationCatalog>(),
            sp.GetRequiredService<LocalGrainDirectory>(),
            sp.GetRequiredService<SiloCallRuntime>(),
            sp.GetRequiredService<GrainTypeResolver>(),
            sp.GetRequiredService<NetworkFaultInjector>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<Microsoft.Extensions.Logging.ILogger<Silo>>(),
            sp.GetRequiredService<Microsoft.Extensions.Logging.ILogger<Connection>>()));
        services.AddHostedService<SiloHostedService>();
        return services;
    }

    /// <summary>Registers a cluster client (the services behind <c>UseActorsClient</c>).</summary>
    public static IServiceCollection AddActorsClient(this IServiceCollection services, IConfiguration configuration, Action<IClientBuilder> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        AddCommonOptions(services, configuration);
        services.AddOptions<ClientOptions>().Bind(configuration.GetSection(ClientSection)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ClientOptions>, ClientOptionsValidator>());
        configure(new ClientBuilder(services, configuration));
        services.TryAddSingleton<ClusterClient>();
        services.TryAddSingleton<IClusterClient>(sp => sp.GetRequiredService<ClusterClient>());
        services.TryAddSingleton<IGrainFactory>(sp => sp.GetRequiredService<ClusterClient>());
        services.AddHostedService<ClusterClientHostedService>();
        return services;
    }

    private static void AddCommonOptions(IServiceCollection services, IConfiguration configuration)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddOptions<MessagingOptions>().Bind(configuration.GetSection(MessagingSection)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<MessagingOptions>, MessagingOptionsValidator>());
    }
}

/// <summary>Starts and stops the silo with the host.</summary>
internal sealed class SiloHostedService(Silo silo) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => silo.StartAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => silo.StopAsync(cancellationToken);
}

/// <summary>Connects the client when the host starts; disconnects when it stops.</summary>
internal sealed class ClusterClientHostedService(ClusterClient client) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => client.ConnectAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => client.DisposeAsync().AsTask();
}
