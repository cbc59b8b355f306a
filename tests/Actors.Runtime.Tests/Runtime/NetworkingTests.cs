using Actors.Configuration;
using Actors.Hosting;
using Actors.Membership;
using Actors.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Actors.Runtime.Tests.Runtime;

public sealed class NetworkingTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    [Fact]
    public async Task ProbeOfALiveSiloSucceeds()
    {
        var prober = fixture.Cluster.Silos[0].Services.GetRequiredService<ISiloProber>();

        Assert.True(await prober.ProbeAsync(fixture.Cluster.Silos[1].SiloAddress, TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task ProbeOfAnotherGenerationOnTheSameEndpointFails()
    {
        var prober = fixture.Cluster.Silos[0].Services.GetRequiredService<ISiloProber>();
        var target = fixture.Cluster.Silos[2].SiloAddress;

        Assert.False(await prober.ProbeAsync(target with { Generation = target.Generation - 1 }, TimeSpan.FromSeconds(5)));
        Assert.False(await prober.ProbeAsync(target with { Generation = target.Generation + 1 }, TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task ProbeOfAClosedPortFails()
    {
        var prober = fixture.Cluster.Silos[0].Services.GetRequiredService<ISiloProber>();

        Assert.False(await prober.ProbeAsync(new SiloAddress("127.0.0.1", TestCluster.GetFreePort(), 1), TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task DropProbesCutsASiloOffFromProbes()
    {
        var target = fixture.Cluster.Silos[1];
        var prober = fixture.Cluster.Silos[0].Services.GetRequiredService<ISiloProber>();
        target.Faults.DropProbes = true;
        try
        {
            Assert.False(await prober.ProbeAsync(target.SiloAddress, TimeSpan.FromMilliseconds(300)));
            Assert.False(await target.Services.GetRequiredService<ISiloProber>().ProbeAsync(fixture.Cluster.Silos[0].SiloAddress, TimeSpan.FromMilliseconds(300)));
        }
        finally
        {
            target.Faults.DropProbes = false;
        }

        Assert.True(await prober.ProbeAsync(target.SiloAddress, TimeSpan.FromSeconds(5)));
    }

    [Theory]
    [InlineData("Actors:Messaging:MaxFrameBytes", "10", "MessagingOptions.MaxFrameBytes")]
    [InlineData("Actors:Messaging:ResponseTimeout", "-00:00:01", "MessagingOptions.ResponseTimeout")]
    [InlineData("Actors:Silo:SiloPort", "0", "SiloOptions.SiloPort")]
    [InlineData("Actors:GrainCollection:CollectionAge", "00:00:00", "GrainCollectionOptions.CollectionAge")]
    public async Task InvalidOptionsStopTheSiloAtStartNamingTheSetting(string key, string value, string setting)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration[key] = value;
        builder.UseActors(silo => silo.Configure<SiloOptions>(o =>
        {
            if (key != "Actors:Silo:SiloPort")
            {
                o.SiloPort = TestCluster.GetFreePort();
            }

            o.GatewayPort = TestCluster.GetFreePort();
        }));
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains(setting, error.Message);
    }
}
