using Actors.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;

// One silo. Settings: appsettings.json, then ACTORS_* environment variables, then flags (see --help).
// Membership and grain state live in SQLite files under the data folder unless configured (UseEmbeddedSqlite).
// SIGTERM and Ctrl-C stop it gracefully: grains deactivate and the silo leaves membership.
if (args is ["--help"] or ["-h"])
{
    Console.WriteLine(SiloCommandLine.Usage);
    return 0;
}

Dictionary<string, string?> flags;
try
{
    flags = SiloCommandLine.Parse(args);
}
catch (ArgumentException exception)
{
    Console.Error.WriteLine(exception.Message);
    return 2;
}

var builder = Host.CreateApplicationBuilder();
builder.Configuration.AddInMemoryCollection(SiloCommandLine.FromEnvironment(Environment.GetEnvironmentVariables()));
builder.Configuration.AddInMemoryCollection(flags);
builder.UseActors(silo => silo.UseEmbeddedSqlite());
await builder.Build().RunAsync();
return 0;
