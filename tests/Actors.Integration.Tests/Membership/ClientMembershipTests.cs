using Actors.Client;
using Actors.Hosting;
using Actors.Membership;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;
using static Actors.Integration.Tests.Membership.MembershipTestSupport;

namespace Actors.Integration.Tests.Membership;

/// <summary>A cluster client that learns gateways from the SQLite membership table.</summary>
public sealed class ClientMembershipTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempFolder folder = new("membership-client");

    public void Dispose() => folder.Dispose();

    [Fact]
    public async Task The_client_learns_gateways_from_the_table_follows_joins_and_moves_off_a_killed_gateway()
    {
        await using var cluster = SqliteCluster(folder, silos: 2);
        cluster.Options.StartClient = false;
        await cluster.DeployAsync();
        await cluster.WaitForLivenessToStabilizeAsync();

        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Configuration["Actors:Messaging:ResponseTimeout"] = "00:00:05";
        builder.UseActorsClient(c => c.UseSqliteClustering(folder.File("cluster.db")).ConfigureMembership(Fast));
        using var host = builder.Build();
        await host.StartAsync();
        var view = host.Services.GetRequiredService<ClientMembershipService>();
        var client = (ClusterClient)host.Services.GetRequiredService<IClusterClient>();
        Assert.Equal(cluster.Silos.Select(s => $"127.0.0.1:{s.GatewayPort}").Order(StringComparer.Ordinal), view.ActiveGateways);

        // A silo that joins later is learned from the table.
        var third = await cluster.StartAdditionalSiloAsync();
        await WaitUntilAsync(
            () => view.ActiveGateways.Contains($"127.0.0.1:{third.GatewayPort}"),
            DetectionDeadline,
            "the client to learn the third gateway",
            () => view.CurrentSnapshot.ToString());

        // Every silo must see the join too before placement is the same everywhere; until then a call
        // may meet a silo that has not yet learned the new view and fail with a clear, retriable error.
        await cluster.WaitForLivenessToStabilizeAsync();
        await WaitForAnswersAsync(client, "three grains to answer once the third silo has joined");

        // Kill the client's gateway: the view drops it and calls go through another gateway.
        var gateway = cluster.Silos.Single(s => s.SiloAddress == client.CurrentGateway);
        await cluster.KillSiloAsync(gateway);
        await WaitUntilAsync(
            () => view.CurrentSnapshot.GetStatus(gateway.SiloAddress) == SiloStatus.Dead,
            DetectionDeadline,
            $"the client to see its gateway {gateway.Name} Dead",
            () => view.CurrentSnapshot.ToString());
        Assert.DoesNotContain($"127.0.0.1:{gateway.GatewayPort}", view.ActiveGateways);
        await WaitForStatusAsync(cluster.Silos, gateway.SiloAddress, SiloStatus.Dead, DetectionDeadline);
        await WaitForAnswersAsync(client, "three grains to answer through another gateway");

        Assert.NotEqual(gateway.SiloAddress, client.CurrentGateway);
        output.WriteLine($"moved from {gateway.SiloAddress} to {client.CurrentGateway}");
        await host.StopAsync();
    }

    private string lastError = "none";

    private async Task WaitForAnswersAsync(ClusterClient client, string awaited)
    {
        var deadline = DateTime.UtcNow + DetectionDeadline;
        int answered;
        while ((answered = await CountAnswersAsync(client)) != 3)
        {
            Assert.True(
                DateTime.UtcNow < deadline,
                $"Timed out waiting for {awaited}; {answered} answered, gateway={client.CurrentGateway}, last error: {lastError}");
        }
    }

    private async Task<int> CountAnswersAsync(IClusterClient client)
    {
        var answered = 0;
        for (var i = 0; i < 3; i++)
        {
            try
            {
                await client.GetGrain<ILocatorGrain>($"client-{i}").WhereAmI();
                answered++;
            }
            catch (Exception ex) when (ex is SiloUnavailableException or GrainCallTimeoutException)
            {
                // A call in flight to the dead gateway fails with a clear error; the next one reconnects.
                lastError = $"{ex.GetType().Name}: {ex.Message}";
            }
        }

        return answered;
    }
}
