using Actors.Broker.Configuration;
using Actors.Broker.Logs;
using Actors.Broker.Placement;
using Actors.Log;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.Serialization;
using Orleans.Serialization.Configuration;

namespace Actors.Broker.Hosting;

/// <summary><c>silo.AddBroker(...)</c>: makes a silo a broker (partition logs, the broker's grains, controlled shutdown).</summary>
public static class BrokerSiloBuilderExtensions
{
    /// <summary>The configuration section bound to <see cref="BrokerOptions"/>.</summary>
    public const string ConfigurationSection = "Actors:Broker";

    /// <summary>The service key of the <see cref="TimeProvider"/> consumer groups read: member session timeouts and the
    /// age of an empty group's offsets (<c>offsets.retention.minutes</c>). It is the silo's clock unless a keyed
    /// TimeProvider is registered under this key, which lets a test move group time alone by minutes or days while
    /// membership, replication and timers keep real time.</summary>
    public const string GroupClockKey = "actors.broker.group-clock";

    /// <summary>
    /// Adds the broker to the silo. Options bind from "Actors:Broker" and then <paramref name="configure"/>.
    /// <see cref="BrokerOptions.LogDirs"/> defaults to "&lt;DataDirectory&gt;/logs"; "{silo}" in it is replaced
    /// by the silo's name (several silos of one process or machine then keep separate logs).
    /// The silo needs a grain storage provider named "Default" shared by all silos (e.g. SQLite on one file).
    /// </summary>
    public static ISiloBuilder AddBroker(this ISiloBuilder builder, Action<BrokerOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<BrokerOptions>()
            .Bind(builder.Configuration.GetSection(ConfigurationSection))
            .Configure(o => configure?.Invoke(o))
            .PostConfigure<IOptions<SiloOptions>>((o, silo) =>
            {
                if (string.IsNullOrWhiteSpace(o.LogDirs))
                {
                    o.LogDirs = Path.Combine(o.DataDirectory, "logs");
                }

                o.LogDirs = o.LogDirs.Replace("{silo}", silo.Value.SiloName, StringComparison.Ordinal);
            })
            .Validate(o =>
            {
                o.Validate();
                return true;
            })
            .ValidateOnStart();
        builder.Services.AddBrokerSerialization();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.TryAddKeyedSingleton(GroupClockKey, (sp, _) => sp.GetRequiredService<TimeProvider>());
        builder.Services.TryAddSingleton<LogManager>();
        builder.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<LogManager>());
        builder.Services.AddSingleton<Diagnostics.BrokerMetricsCollector>();
        builder.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<Diagnostics.BrokerMetricsCollector>());
        builder.Services.AddSingleton<BrokerSiloService>();
        builder.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<BrokerSiloService>());
        builder.AddPlacementDirector<SiloNamePlacement, SiloNamePlacementDirector>();
        builder.AddPlacementDirector<PartitionLeaderPlacement, PartitionLeaderPlacementDirector>();
        return builder;
    }

    /// <summary>
    /// What a silo or a client that calls the broker's grains needs for their messages and errors: a missing
    /// serializer fails at start rather than on first use, and a log error (<see cref="LogException"/>) carried as the
    /// inner exception of a <see cref="BrokerException"/> crosses the wire with its type and message.
    /// </summary>
    public static IServiceCollection AddBrokerSerialization(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.Configure<TypeManifestOptions>(o =>
        {
            o.EnableConfigurationAnalysis = true;
            o.AddAllowedAssembly(typeof(LogException).Assembly);
        });
        services.Configure<ExceptionSerializationOptions>(o => o.SupportedNamespacePrefixes.Add("Actors"));
        return services;
    }
}
