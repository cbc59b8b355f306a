using Actors.Broker.Hosting;
using Actors.Hosting;
using Actors.Silo;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;

// One broker silo. Settings: appsettings.json, then ACTORS_* environment variables, then flags (see --help).
// Membership and grain state live in SQLite files under the data folder unless configured (UseEmbeddedSqlite);
// partition logs live in <data>/logs unless log.dirs / Actors:Broker:LogDirs says otherwise.
// SIGTERM and Ctrl-C stop it gracefully: leadership moves away, grains deactivate and the silo leaves membership.
if (args is ["--help"] or ["-h"])
{
    Console.WriteLine(SiloCommandLine.Usage);
    Console.WriteLine(KafkaBrokerSettings.Usage);
    return 0;
}

SiloProcess.UseInlineSocketCompletions();
var builder = Host.CreateApplicationBuilder();
try
{
    var brokerFlags = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
    var flags = SiloCommandLine.Parse(KafkaBrokerSettings.TakeFlags(args, brokerFlags));
    builder.Configuration.AddInMemoryCollection(SiloCommandLine.FromEnvironment(Environment.GetEnvironmentVariables()));
    builder.Configuration.AddInMemoryCollection(flags);
    builder.Configuration.AddInMemoryCollection(KafkaBrokerSettings.Translate(builder.Configuration));
    builder.Configuration.AddInMemoryCollection(brokerFlags);
}
catch (ArgumentException exception)
{
    Console.Error.WriteLine(exception.Message);
    Console.Error.WriteLine(KafkaBrokerSettings.Usage);
    return 2;
}

builder.UseActors(silo => silo.UseEmbeddedSqlite().AddBroker());
await builder.Build().RunAsync();
return 0;
