using Actors.Client;
using Actors.Streams;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Streams;

namespace Orleans.Hosting;

/// <summary>Registration of Orleans stream providers backed by Actors topics.</summary>
public static class ActorsStreamsHostingExtensions
{
    /// <summary>
    /// Adds the persistent stream provider <paramref name="name"/> whose events are records of Actors topics: durable
    /// and replicated as the topic is, ordered per stream, and replayable from any retained offset (a subscription
    /// made with an <see cref="ActorsStreamSequenceToken"/> receives the stream's events from that offset on). The
    /// silo runs one pulling agent per partition; the cluster's broker must run in the same Orleans cluster.
    /// </summary>
    public static ISiloBuilder AddActorsStreams(this ISiloBuilder builder, string name, Action<ActorsStreamOptions>? configure = null, Action<ISiloPersistentStreamConfigurator>? configureProvider = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        Register(builder.Services, name, configure);
        return builder.AddPersistentStreams(name, ActorsQueueAdapterFactory.Create, c => configureProvider?.Invoke(c));
    }

    /// <summary>Adds the stream provider <paramref name="name"/> to an Orleans client, which produces to the provider's
    /// topics and subscribes through the silos' agents. Configure it as on the silos.</summary>
    public static IClientBuilder AddActorsStreams(this IClientBuilder builder, string name, Action<ActorsStreamOptions>? configure = null, Action<IClusterClientPersistentStreamConfigurator>? configureProvider = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        Register(builder.Services, name, configure);
        return builder.AddPersistentStreams(name, ActorsQueueAdapterFactory.Create, c => configureProvider?.Invoke(c));
    }

    private static void Register(IServiceCollection services, string name, Action<ActorsStreamOptions>? configure)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        services.AddActorsClient();
        var options = services.AddOptions<ActorsStreamOptions>(name);
        if (configure is not null)
        {
            options.Configure(configure);
        }
    }
}
