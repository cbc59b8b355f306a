using Actors.Log;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Serialization;
using Orleans.Serialization.Configuration;

namespace Actors.Client;

/// <summary>Settings every client made by <see cref="IActorsClientFactory"/> starts from (Kafka names), before the
/// settings passed to each builder.</summary>
public sealed class ActorsClientOptions
{
    /// <summary>Settings for every producer, consumer and admin client (e.g. client.id).</summary>
    public Dictionary<string, string> Common { get; } = new(StringComparer.Ordinal);

    /// <summary>Settings for producers (e.g. acks, linger.ms, compression.type).</summary>
    public Dictionary<string, string> Producer { get; } = new(StringComparer.Ordinal);

    /// <summary>Settings for consumers (e.g. group.id, auto.offset.reset).</summary>
    public Dictionary<string, string> Consumer { get; } = new(StringComparer.Ordinal);
}

/// <summary>Makes Actors clients over the host's <see cref="IGrainFactory"/> (an Orleans client's or a silo's).</summary>
public interface IActorsClientFactory
{
    /// <summary>A producer builder with the configured settings, then <paramref name="config"/>.</summary>
    ActorsProducerBuilder<TKey, TValue> CreateProducerBuilder<TKey, TValue>(IEnumerable<KeyValuePair<string, string>>? config = null);

    /// <summary>A consumer builder with the configured settings, then <paramref name="config"/>.</summary>
    ActorsConsumerBuilder<TKey, TValue> CreateConsumerBuilder<TKey, TValue>(IEnumerable<KeyValuePair<string, string>>? config = null);

    /// <summary>An admin client builder with the configured settings, then <paramref name="config"/>.</summary>
    ActorsAdminClientBuilder CreateAdminClientBuilder(IEnumerable<KeyValuePair<string, string>>? config = null);
}

/// <summary>Registration of the Actors client on an Orleans client host or a silo host.</summary>
public static class ActorsClientServiceCollectionExtensions
{
    /// <summary>
    /// Adds <see cref="IActorsClientFactory"/> and what calling the broker's grains needs: the broker's errors (and the
    /// log errors they carry) cross the wire with their type and message. Works on an Orleans client
    /// (<c>UseOrleansClient</c>) and on a silo (<c>UseOrleans</c>): either provides the <see cref="IGrainFactory"/>.
    /// </summary>
    public static IServiceCollection AddActorsClient(this IServiceCollection services, Action<ActorsClientOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.Configure<TypeManifestOptions>(o =>
        {
            o.EnableConfigurationAnalysis = true;
            o.AddAllowedAssembly(typeof(LogException).Assembly);
        });
        services.Configure<ExceptionSerializationOptions>(o => o.SupportedNamespacePrefixes.Add("Actors"));
        if (configure is not null)
        {
            services.Configure(configure);
        }
        else
        {
            services.AddOptions<ActorsClientOptions>();
        }

        services.TryAddSingleton<IActorsClientFactory, ActorsClientFactory>();
        return services;
    }

    private sealed class ActorsClientFactory(IGrainFactory grains, IOptions<ActorsClientOptions> options) : IActorsClientFactory
    {
        public ActorsProducerBuilder<TKey, TValue> CreateProducerBuilder<TKey, TValue>(IEnumerable<KeyValuePair<string, string>>? config = null) =>
            new(Merge(options.Value.Producer, config), grains);

        public ActorsConsumerBuilder<TKey, TValue> CreateConsumerBuilder<TKey, TValue>(IEnumerable<KeyValuePair<string, string>>? config = null) =>
            new(Merge(options.Value.Consumer, config), grains);

        public ActorsAdminClientBuilder CreateAdminClientBuilder(IEnumerable<KeyValuePair<string, string>>? config = null) =>
            new(Merge(new Dictionary<string, string>(StringComparer.Ordinal), config), grains);

        private List<KeyValuePair<string, string>> Merge(Dictionary<string, string> specific, IEnumerable<KeyValuePair<string, string>>? config)
        {
            var all = new Dictionary<string, string>(options.Value.Common, StringComparer.Ordinal);
            foreach (var (k, v) in specific)
            {
                all[k] = v;
            }

            foreach (var (k, v) in config ?? [])
            {
                all[k] = v;
            }

            return all.ToList();
        }
    }
}
