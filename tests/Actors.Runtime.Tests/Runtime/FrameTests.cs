using Actors.Networking;
using Actors.Runtime.Tests.Grains;

namespace Actors.Runtime.Tests.Runtime;

/// <summary>Frames above MessagingOptions.MaxFrameBytes fail their call, never the connection.</summary>
public sealed class FrameTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    [Fact]
    public async Task OversizeRequestFailsWithAClearErrorAndOtherCallsContinue()
    {
        var grain = fixture.Cluster.Client.GetGrain<IProbeGrain>(Keys.New("oversize"));
        var slow = fixture.Cluster.Client.GetGrain<ITurnGrain>(Keys.New("inflight"));
        var inFlight = slow.WaitForRelease();
        await Eventually.UntilAsync(() => slow.IsWaiting(), w => w, "a call in flight on the connection");

        var error = await Assert.ThrowsAsync<FrameTooLargeException>(() => grain.Echo(new byte[ClusterFixture.MaxFrameBytes + 1]));

        Assert.Contains("MessagingOptions.MaxFrameBytes", error.Message);
        await slow.ReleaseInterleaved("still connected");
        Assert.Equal("still connected", await inFlight);
        Assert.Equal(1000, (await grain.Echo(new byte[1000])).Length);
    }

    [Fact]
    public async Task OversizeResponseFailsTheCallOnly()
    {
        var grain = fixture.Cluster.Client.GetGrain<IProbeGrain>(Keys.New("oversize-result"));

        var error = await Assert.ThrowsAsync<FrameTooLargeException>(() => grain.Make(ClusterFixture.MaxFrameBytes + 10));

        Assert.Contains("MessagingOptions.MaxFrameBytes", error.Message);
        Assert.Equal(10, (await grain.Make(10)).Length);
    }

    [Fact]
    public async Task OversizeFrameReceivedIsSkippedAndAnswered()
    {
        // This client allows 4 MiB frames, the silos 256 KiB: the gateway receives a frame above its limit.
        var client = await fixture.Cluster.StartClientAsync();
        var gatewayLimitClient = await StartClientWithLimitAsync(4 * 1024 * 1024);
        var grain = gatewayLimitClient.GetGrain<IProbeGrain>(Keys.New("received-oversize"));

        var error = await Assert.ThrowsAsync<FrameTooLargeException>(() => grain.Echo(new byte[1024 * 1024]));

        Assert.Contains("MessagingOptions.MaxFrameBytes", error.Message);
        Assert.Equal(5, (await grain.Echo(new byte[5])).Length);
        Assert.True(gatewayLimitClient.IsConnected);
        Assert.True(client.IsConnected);
    }

    private async Task<IClusterClient> StartClientWithLimitAsync(int maxFrameBytes)
    {
        var options = fixture.Cluster.Options.Configuration;
        var previous = options["Actors:Messaging:MaxFrameBytes"];
        options["Actors:Messaging:MaxFrameBytes"] = maxFrameBytes.ToString(System.Globalization.CultureInfo.InvariantCulture);
        try
        {
            return await fixture.Cluster.StartClientAsync();
        }
        finally
        {
            options["Actors:Messaging:MaxFrameBytes"] = previous;
        }
    }
}
