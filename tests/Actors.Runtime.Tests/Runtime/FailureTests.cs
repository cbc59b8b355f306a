using Actors.Runtime.Tests.Grains;
using Actors.Testing;

namespace Actors.Runtime.Tests.Runtime;

/// <summary>Silos killed (sockets reset, no goodbye) under a running cluster.</summary>
public sealed class FailureTests : IAsyncLifetime
{
    private TestCluster cluster = null!;

    public async Task InitializeAsync()
    {
        cluster = new TestClusterBuilder(3).AddConfiguration("Actors:Messaging:ResponseTimeout", "00:00:20").Build();
        await cluster.DeployAsync();
        await cluster.WaitForLivenessToStabilizeAsync();
    }

    public async Task DisposeAsync() => await cluster.DisposeAsync();

    [Fact]
    public async Task KilledSilosGrainsComeBackOnAnotherSiloAtTheirNextCall()
    {
        var grains = Enumerable.Range(0, 30).Select(i => cluster.Client.GetGrain<IProbeGrain>(Keys.New($"survivor{i}"))).ToArray();
        var before = await Task.WhenAll(grains.Select(g => g.WhereAmI()));
        var gateway = ((Client.ClusterClient)cluster.Client).CurrentGateway!;
        var victim = cluster.Silos.First(s => !s.SiloAddress.Equals(gateway) && before.Contains(s.SiloAddress.ToString()));
        var moved = grains.Where((g, i) => before[i] == victim.SiloAddress.ToString()).ToArray();
        Assert.NotEmpty(moved);

        await cluster.KillSiloAsync(victim);
        await cluster.WaitForLivenessToStabilizeAsync();

        foreach (var grain in moved)
        {
            var where = await grain.WhereAmI();
            Assert.NotEqual(victim.SiloAddress.ToString(), where);
            Assert.Equal(2, await grain.ActivationNumber());
        }

        var stayed = grains.Where((g, i) => before[i] != victim.SiloAddress.ToString()).ToArray();
        foreach (var grain in stayed)
        {
            Assert.Equal(1, await grain.ActivationNumber());
        }
    }

    [Fact]
    public async Task AGrainPinnedToAKilledSiloFailsFastNamingTheSiloAndItsStatus()
    {
        var gateway = ((Client.ClusterClient)cluster.Client).CurrentGateway!;
        var victim = cluster.Silos.First(s => !s.SiloAddress.Equals(gateway));
        var grain = cluster.Client.GetGrain<IPinnedGrain>($"pinned@{victim.Name}");
        Assert.Equal(victim.SiloAddress.ToString(), await grain.WhereAmI());

        await cluster.KillSiloAsync(victim);
        await cluster.WaitForLivenessToStabilizeAsync();

        // The response timeout is 20 s; placement must refuse at once instead of waiting for an answer.
        var error = await Assert.ThrowsAsync<SiloUnavailableException>(() => grain.WhereAmI().WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Contains($"pinned to silo '{victim.Name}'", error.Message, StringComparison.Ordinal);
        Assert.Contains("Dead", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CallsInFlightToAKilledSiloFailPromptlyWithSiloUnavailable()
    {
        var gateway = ((Client.ClusterClient)cluster.Client).CurrentGateway!;
        var victim = cluster.Silos.First(s => !s.SiloAddress.Equals(gateway));
        IProbeGrain? grain = null;
        for (var i = 0; i < 200 && grain is null; i++)
        {
            var candidate = cluster.Client.GetGrain<IProbeGrain>(Keys.New("inflight"));
            if (await candidate.WhereAmI() == victim.SiloAddress.ToString())
            {
                grain = candidate;
            }
        }

        Assert.NotNull(grain);
        var hanging = grain.Hang();
        var key = grain.GetPrimaryKeyString();
        await Eventually.UntilAsync(() => GrainEvents.For(key).Contains("hang"), "the call to run on the victim",
            () => string.Join(", ", GrainEvents.For(key)));

        await cluster.KillSiloAsync(victim);

        // The response timeout is 20 s; the failure must come from the dropped connection, well before.
        var error = await Assert.ThrowsAsync<SiloUnavailableException>(() => hanging.WaitAsync(TimeSpan.FromSeconds(15)));
        Assert.Contains(victim.SiloAddress.Endpoint, error.Message);
    }

    [Fact]
    public async Task ClientMovesToAnotherGatewayWhenItsGatewayDies()
    {
        var client = (Client.ClusterClient)cluster.Client;
        var grain = client.GetGrain<IProbeGrain>(Keys.New("failover"));
        await grain.WhereAmI();
        var gateway = cluster.Silos.Single(s => s.SiloAddress.Equals(client.CurrentGateway));

        await cluster.KillSiloAsync(gateway);
        await cluster.WaitForLivenessToStabilizeAsync();

        var where = await Eventually.UntilAsync(async () =>
        {
            try
            {
                return await grain.WhereAmI();
            }
            catch (SiloUnavailableException exception)
            {
                return exception.Message;
            }
        }, w => cluster.Silos.Any(s => s.SiloAddress.ToString() == w), "a call through another gateway");
        Assert.NotEqual(gateway.SiloAddress, client.CurrentGateway);
        Assert.NotEqual(gateway.SiloAddress.ToString(), where);
    }

    [Fact]
    public async Task RestartedSiloServesGrainsAgain()
    {
        var silo = cluster.Silos[2];
        var restarted = await cluster.RestartSiloAsync(silo);
        await cluster.WaitForLivenessToStabilizeAsync();

        Assert.Equal(silo.SiloAddress.Endpoint, restarted.SiloAddress.Endpoint);
        Assert.True(restarted.SiloAddress.Generation > silo.SiloAddress.Generation);
        var wheres = await Task.WhenAll(Enumerable.Range(0, 30).Select(i => cluster.Client.GetGrain<IProbeGrain>(Keys.New($"after{i}")).WhereAmI()));
        Assert.Contains(restarted.SiloAddress.ToString(), wheres);
    }
}
