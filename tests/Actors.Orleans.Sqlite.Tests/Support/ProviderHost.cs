using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Orleans.Serialization;

namespace Actors.Orleans.Sqlite.Tests.Support;

/// <summary>
/// Silo hosts that are built but never started, so a test resolves a provider exactly as Orleans
/// registers it (options, serializer, validators) without forming a cluster.
/// </summary>
internal sealed class ProviderHosts : IDisposable
{
    private readonly List<IHost> hosts = [];

    /// <summary>A built, not started, silo host of cluster <paramref name="clusterId"/>.</summary>
    public IServiceProvider Build(string clusterId, Action<ISiloBuilder> configure)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.ClearProviders();
        builder.UseOrleans(silo =>
        {
            silo.Configure<ClusterOptions>(options => (options.ClusterId, options.ServiceId) = (clusterId, "contract-tests"));
            silo.Services.AddSerializer(serializer => serializer.AddAssembly(typeof(CounterState).Assembly));
            configure(silo);
        });
        var host = builder.Build();
        lock (hosts)
        {
            hosts.Add(host);
        }

        return host.Services;
    }

    public void Dispose()
    {
        lock (hosts)
        {
            foreach (var host in hosts)
            {
                host.Dispose();
            }

            hosts.Clear();
        }
    }
}
