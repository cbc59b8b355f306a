using Actors.Broker.Configuration;
using Actors.Silo;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Hosting;

// One broker silo on Orleans. Settings: appsettings.json, then ACTORS_* environment variables, then flags (see --help).
// Membership and grain state live in SQLite files under the data folder unless configured (Actors:Clustering,
// Actors:GrainStorage); partition logs live in <data>/logs unless log.dirs / Actors:Broker:LogDirs says otherwise.
// SIGTERM and Ctrl-C stop it gracefully: leadership moves away, grains deactivate and the silo leaves membership.
if (args is ["--help"] or ["-h"])
{
    Console.WriteLine(SiloCommandLine.Usage);
    Console.WriteLine(KafkaBrokerSettings.Usage);
    return 0;
}

SiloProcess.UseInlineSocketCompletions();
// appsettings.json is read from beside the executable, wherever the silo is started from; relative paths in the
// settings (the data folder) are relative to the working directory.
var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { ContentRootPath = AppContext.BaseDirectory });
SiloSettings settings;
try
{
    var brokerFlags = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
    var flags = SiloCommandLine.Parse(KafkaBrokerSettings.TakeFlags(args, brokerFlags));
    builder.Configuration.AddInMemoryCollection(SiloCommandLine.FromEnvironment(Environment.GetEnvironmentVariables()));
    builder.Configuration.AddInMemoryCollection(flags);
    builder.Configuration.AddInMemoryCollection(KafkaBrokerSettings.Translate(builder.Configuration));
    builder.Configuration.AddInMemoryCollection(brokerFlags);
    settings = SiloSettings.Read(builder.Configuration);
    settings.AdvertisedAddress();
    settings.ValidateBroker(builder.Configuration);
    HttpHosting.AddHttpHosting(builder);
}
catch (ArgumentException exception)
{
    Console.Error.WriteLine(exception.Message);
    Console.Error.WriteLine(SiloCommandLine.Usage);
    Console.Error.WriteLine(KafkaBrokerSettings.Usage);
    return 2;
}

builder.UseOrleans(silo => settings.Apply(silo, builder.Configuration));
using var host = builder.Build();
var lifetime = host.Services.GetRequiredService<IHostApplicationLifetime>();
var logger = host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Actors.Silo");
lifetime.ApplicationStarted.Register(() => SiloLog.Started(logger, settings.Name, settings.AdvertisedHost, settings.SiloPort, settings.GatewayPort));
await host.RunAsync();
return 0;

internal static partial class SiloLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Silo {Name} started at {Host}:{SiloPort} (gateway {GatewayPort}) and is Active in the cluster")]
    public static partial void Started(ILogger logger, string name, string host, int siloPort, int gatewayPort);
}
