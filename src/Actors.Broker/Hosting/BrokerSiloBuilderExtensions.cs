using Actors.Broker.Grains;
using Actors.Broker.Logs;
using Actors.Configuration;
using Actors.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

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
    /// <see cref="BrokerOptions.LogDirs"/> defaults to "&lt;Actors:Silo:DataDirectory&gt;/logs"; "{silo}" in it is replaced
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
                    o.LogDirs = Path.Combine(silo.Value.DataDirectory, "logs");
                }

                o.LogDirs = o.LogDirs.Replace("{silo}", silo.Value.Name, StringComparison.Ordinal);
            })
            .Validate(o =>
            {
                o.Validate();
                return true;
            })
            .ValidateOnStart();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.TryAddKeyedSingleton(GroupClockKey, (sp, _) => sp.GetRequiredService<TimeProvider>());
        builder.Services.TryAddSingleton<LogManager>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<LogManager>());
        builder.Services.TryAddSingleton<PartitionLeaderPlacementDirector>();
        builder.Services.AddHostedService<BrokerSiloService>();
        return builder;
    }
}
