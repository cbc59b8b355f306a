using Actors.Broker.Configuration;
using Actors.Silo;
using Actors.Silo.Configuration;
using Actors.WebConsole;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Hosting;

// One broker silo on Orleans. Settings, later wins: appsettings.json, a Kafka-style server.properties (--config),
// ACTORS_* environment variables, flags; docs/configuration.md lists them all (SettingsCatalog writes it).
// Membership and grain state live in SQLite files under the data folder unless configured (clustering.provider,
// grain.storage.provider); partition logs live in <data>/logs unless log.dirs says otherwise.
// SIGTERM and Ctrl-C stop it gracefully: leadership moves away, grains deactivate and the silo leaves membership.
if (args is ["--help"] or ["-h"])
{
    Console.WriteLine(SiloConfigurationSources.Usage);
    return 0;
}

if (args is ["--settings-markdown"])
{
    Console.Write(SettingsCatalog.Markdown());
    return 0;
}

SiloProcess.UseInlineSocketCompletions();
// appsettings.json is read from beside the executable, wherever the silo is started from; relative paths in the
// settings (the data folder) are relative to the working directory.
var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { ContentRootPath = AppContext.BaseDirectory });
SiloSettings settings;
SiloConfigurationSources sources;
try
{
    sources = SiloConfigurationSources.Read(args, Environment.GetEnvironmentVariables());
    // Kafka names under Actors:Broker in appsettings.json ("min.insync.replicas": 2) sit at appsettings.json's level.
    builder.Configuration.AddInMemoryCollection(KafkaBrokerSettings.Translate(builder.Configuration));
    builder.Configuration.AddInMemoryCollection(sources.Values);
    SiloConfigurationSources.CheckEffective(builder.Configuration);
    settings = SiloSettings.Read(builder.Configuration);
    settings.AdvertisedAddress();
    settings.ValidateBroker(builder.Configuration);
    SiloHttpEndpoint.ValidateConsole(builder.Configuration);
}
catch (ArgumentException exception)
{
    Console.Error.WriteLine(exception.Message);
    return 2;
}

// Under systemd (Type=notify) the host tells systemd when it is ready and when it stops; SIGTERM stops it gracefully.
builder.Services.AddSystemd();
SiloLogging.Configure(builder.Logging, builder.Configuration["Actors:Logging:Format"]);
builder.UseOrleans(silo => settings.Apply(silo, builder.Configuration));
// Counts the records the Kafka listener serves per topic, for the console's messages/s out.
builder.Services.AddActorsConsoleTraffic();
if (settings.HttpPort > 0)
{
    // Registered after the silo, so it starts once the silo has (and /health is never asked about a silo not yet built).
    builder.Services.AddHostedService(sp => ActivatorUtilities.CreateInstance<SiloHttpEndpoint>(sp, settings.HttpPort, settings.HttpAuth));
}

using var host = builder.Build();
var lifetime = host.Services.GetRequiredService<IHostApplicationLifetime>();
var logger = host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Actors.Silo");
if (settings.ClusterTls is { } clusterTls)
{
    clusterTls.UseLogger(host.Services.GetRequiredService<ILoggerFactory>());
    SiloLog.ClusterTls(logger, clusterTls.Certificate.Subject, clusterTls.Source);
}

foreach (var warning in sources.Warnings)
{
    SiloLog.SettingWarning(logger, warning);
}

foreach (var note in sources.Notes)
{
    SiloLog.SettingNote(logger, note);
}

lifetime.ApplicationStarted.Register(() => SiloLog.Started(logger, settings.Name, settings.AdvertisedHost, settings.SiloPort, settings.GatewayPort));
await host.RunAsync();
return 0;

internal static partial class SiloLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Silo {Name} started at {Host}:{SiloPort} (gateway {GatewayPort}) and is Active in the cluster")]
    public static partial void Started(ILogger logger, string name, string host, int siloPort, int gatewayPort);

    [LoggerMessage(EventId = 4, Level = LogLevel.Information, Message = "Cluster TLS on for silo and gateway connections: certificate {Subject}, peers accepted when trusted by {Trust}")]
    public static partial void ClusterTls(ILogger logger, string subject, string trust);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "{Warning}")]
    public static partial void SettingWarning(ILogger logger, string warning);

    [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "{Note}")]
    public static partial void SettingNote(ILogger logger, string note);
}
