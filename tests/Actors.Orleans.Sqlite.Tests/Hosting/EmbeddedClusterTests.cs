using System.Net;
using Actors.Orleans.Sqlite.Tests.Support;
using Actors.Testing;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Orleans.Serialization;

namespace Actors.Orleans.Sqlite.Tests.Hosting;

public interface ICounterGrain : IGrainWithStringKey
{
    Task<long> IncrementAsync();
}

public sealed class CounterGrain([PersistentState("counter")] IPersistentState<CounterState> counter) : Grain, ICounterGrain
{
    public async Task<long> IncrementAsync()
    {
        counter.State.Value++;
        await counter.WriteStateAsync();
        return counter.State.Value;
    }
}

/// <summary>Two silos and a client configured only with <c>UseEmbeddedSqlite</c> on one folder form
/// one cluster over TCP on 127.0.0.1, and grain state lands in the shared file.</summary>
public sealed class EmbeddedClusterTests : IAsyncLifetime
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private readonly TempDirectory directory = new("sqlite-cluster");
    private readonly List<IHost> hosts = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        for (var i = hosts.Count - 1; i >= 0; i--)
        {
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            await hosts[i].StopAsync(stop.Token);
            hosts[i].Dispose();
        }

        SqliteConnection.ClearAllPools();
        directory.Dispose();
    }

    private async Task<IHost> StartAsync(HostApplicationBuilder builder)
    {
        builder.Logging.ClearProviders();
        builder.Services.AddSerializer(serializer => serializer.AddAssembly(typeof(CounterState).Assembly));
        builder.Services.Configure<ClusterOptions>(options => (options.ClusterId, options.ServiceId) = ("embedded", "embedded"));
        var host = builder.Build();
        hosts.Add(host);
        using var deadline = new CancellationTokenSource(StartTimeout);
        await host.StartAsync(deadline.Token);
        return host;
    }

    [Fact]
    public async Task Two_silos_and_a_client_form_one_cluster_through_one_file()
    {
        foreach (var ports in new[] { Ports.GetFreeTcpPorts(2), Ports.GetFreeTcpPorts(2) })
        {
            var silo = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
            silo.UseOrleans(b => b.ConfigureEndpoints(IPAddress.Loopback, ports[0], ports[1]).UseEmbeddedSqlite(directory.Path));
            await StartAsync(silo);
        }

        var clientBuilder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        clientBuilder.UseOrleansClient(client => client.UseEmbeddedSqlite(directory.File("cluster.db")));
        var client = (await StartAsync(clientBuilder)).Services.GetRequiredService<IClusterClient>();

        var grain = client.GetGrain<ICounterGrain>("a");
        Assert.Equal(1, await grain.IncrementAsync());
        Assert.Equal(2, await grain.IncrementAsync());

        var table = hosts[0].Services.GetRequiredService<IMembershipTable>();
        var members = (await table.ReadAllAsync()).Members;
        Assert.Equal(2, members.Count(m => m.Item1.Status == SiloStatus.Active));
        var storage = hosts[0].Services.GetRequiredKeyedService<global::Orleans.Storage.IGrainStorage>("Default");
        var state = new GrainState<CounterState>();
        await storage.ReadStateAsync("counter", GrainId.Create("counter", "a"), state, CancellationToken.None);
        Assert.Equal(2, state.State!.Value);
    }
}
