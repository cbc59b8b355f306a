using Actors.Networking;
using Actors.Runtime.Tests.Grains;
using Actors.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Actors.Runtime.Tests.Runtime;

/// <summary>
/// Connections that drop and come back. The silos share a <see cref="SteppedTimeProvider"/> and a reconnect backoff of
/// 1 to 4 minutes, so that "inside the backoff window" and "the backoff elapsed" are set by the test, not by the speed of
/// the machine.
/// </summary>
public sealed class ReconnectTests : IAsyncLifetime
{
    private readonly SteppedTimeProvider clock = new();
    private TestCluster cluster = null!;

    public async Task InitializeAsync()
    {
        cluster = new TestClusterBuilder(2)
            .AddConfiguration("Actors:Messaging:ReconnectBackoffMin", "00:01:00")
            .AddConfiguration("Actors:Messaging:ReconnectBackoffMax", "00:04:00")
            .ConfigureSilo(silo => silo.Services.AddSingleton<TimeProvider>(clock))
            .ConfigureClient(client => client.Services.AddSingleton<TimeProvider>(clock))
            .Build();
        await cluster.DeployAsync();
        await cluster.WaitForLivenessToStabilizeAsync();
    }

    public async Task DisposeAsync() => await cluster.DisposeAsync();

    [Fact]
    public async Task SiloCallsDuringTheBackoffFailFastNamingThePeerAndSucceedOnceItElapses()
    {
        var caller = cluster.Silos[0];
        var peer = cluster.Silos[1];
        var grain = caller.GrainFactory.GetGrain<IPinnedGrain>($"pinned@{peer.Name}");
        Assert.Equal(peer.SiloAddress.ToString(), await grain.WhereAmI());

        await DropConnectionsAsync(caller, peer);

        // The first call after the drop tries to reconnect, is refused, and starts a backoff of ReconnectBackoffMin.
        var refused = await FailsFastAsync(grain, peer);
        Assert.DoesNotContain("backoff", refused.Message, StringComparison.Ordinal);

        // Inside the window no attempt is made.
        var waiting = await FailsFastAsync(grain, peer);
        Assert.Contains($"Silo {peer.SiloAddress} is unreachable", waiting.Message, StringComparison.Ordinal);
        Assert.Contains("after a 60000 ms backoff", waiting.Message, StringComparison.Ordinal);

        // Past the window the next call tries again; refused again, the backoff doubles.
        clock.Advance(TimeSpan.FromSeconds(61));
        var refusedAgain = await FailsFastAsync(grain, peer);
        Assert.DoesNotContain("backoff", refusedAgain.Message, StringComparison.Ordinal);
        Assert.Contains("after a 120000 ms backoff", (await FailsFastAsync(grain, peer)).Message, StringComparison.Ordinal);

        // The peer accepts again, but the doubled window has not elapsed: still no attempt.
        peer.Faults.RefuseNewConnections = false;
        clock.Advance(TimeSpan.FromSeconds(61));
        Assert.Contains("after a 120000 ms backoff", (await FailsFastAsync(grain, peer)).Message, StringComparison.Ordinal);

        clock.Advance(TimeSpan.FromSeconds(60));
        Assert.Equal(peer.SiloAddress.ToString(), await grain.WhereAmI());

        // A successful connection resets the backoff to ReconnectBackoffMin.
        await DropConnectionsAsync(caller, peer);
        await FailsFastAsync(grain, peer);
        Assert.Contains("after a 60000 ms backoff", (await FailsFastAsync(grain, peer)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ARestartedSiloOnTheSameEndpointIsCalledAtOnceDespiteTheBackoffOfItsOldIncarnation()
    {
        var caller = cluster.Silos[0];
        var peer = cluster.Silos[1];
        var grain = caller.GrainFactory.GetGrain<IPinnedGrain>($"pinned-restart@{peer.Name}");
        Assert.Equal(peer.SiloAddress.ToString(), await grain.WhereAmI());

        // The old incarnation refuses: a 60 s backoff starts for its endpoint.
        await DropConnectionsAsync(caller, peer);
        await FailsFastAsync(grain, peer);
        Assert.Contains("backoff", (await FailsFastAsync(grain, peer)).Message, StringComparison.Ordinal);

        // A new incarnation starts on the same ports; the caller must not wait out the old one's backoff.
        var restarted = await cluster.RestartSiloAsync(peer);
        await cluster.WaitForLivenessToStabilizeAsync();
        Assert.Equal(peer.SiloAddress.Endpoint, restarted.SiloAddress.Endpoint);
        Assert.Equal(restarted.SiloAddress.ToString(), await grain.WhereAmI());
    }

    [Fact]
    public async Task ClientCallsFailFastNamingTheGatewayWhileNoneAnswersAndSucceedOnceOneDoesAndItsBackoffPassed()
    {
        var client = (Client.ClusterClient)cluster.Client;
        var grain = client.GetGrain<IProbeGrain>(Keys.New("client-reconnect"));
        await grain.WhereAmI();
        var gateway = cluster.Silos.Single(s => s.SiloAddress.Equals(client.CurrentGateway));
        var other = cluster.Silos.Single(s => s != gateway);
        var otherGateway = $"{other.SiloAddress.Host}:{other.GatewayPort}";

        // The client's gateway dies and the only other gateway refuses connections.
        other.Faults.RefuseNewConnections = true;
        await cluster.KillSiloAsync(gateway);
        await cluster.WaitForLivenessToStabilizeAsync();
        Assert.Null(client.CurrentGateway);

        // The response timeout is 30 s; the failure comes from the refused connection.
        var error = await Assert.ThrowsAsync<SiloUnavailableException>(() => grain.WhereAmI().WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Contains(otherGateway, error.Message, StringComparison.Ordinal);
        Assert.Null(client.CurrentGateway);

        // The gateway accepts again, but the client waits out the backoff the refusal started: no attempt yet.
        other.Faults.RefuseNewConnections = false;
        var waiting = await Assert.ThrowsAsync<SiloUnavailableException>(() => grain.WhereAmI().WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Contains($"{otherGateway}: ", waiting.Message, StringComparison.Ordinal);
        Assert.Contains("next attempt in", waiting.Message, StringComparison.Ordinal);
        Assert.Null(client.CurrentGateway);

        clock.Advance(TimeSpan.FromSeconds(61));
        Assert.Equal(other.SiloAddress.ToString(), await grain.WhereAmI());
        Assert.Equal(other.SiloAddress, client.CurrentGateway);
    }

    /// <summary>The peer closes its connections to the caller and refuses new ones (in and out) until told otherwise.</summary>
    private static async Task DropConnectionsAsync(SiloHandle caller, SiloHandle peer)
    {
        peer.Faults.RefuseNewConnections = true;
        peer.Services.GetRequiredService<SiloConnectionManager>().CloseConnectionsTo(caller.SiloAddress, "dropped by the test");
        var connections = caller.Services.GetRequiredService<SiloConnectionManager>();
        await Eventually.UntilAsync(
            () => !connections.Connections.Any(c => !c.IsClosed && peer.SiloAddress.Equals(c.RemoteSilo)),
            $"{caller.Name} to see its connections to {peer.Name} close",
            () => string.Join(", ", connections.Connections.Where(c => !c.IsClosed).Select(c => c.Describe())));
    }

    /// <summary>The call fails with <see cref="SiloUnavailableException"/> naming the peer's endpoint, well within the 30 s response timeout.</summary>
    private static async Task<SiloUnavailableException> FailsFastAsync(IPinnedGrain grain, SiloHandle peer)
    {
        var error = await Assert.ThrowsAsync<SiloUnavailableException>(() => grain.WhereAmI().WaitAsync(TimeSpan.FromSeconds(10)));
        // A refused handshake's error names the socket's endpoint, which a dual-stack socket writes as [::ffff:host]:port.
        var names = new[] { peer.SiloAddress.Endpoint, $"[::ffff:{peer.SiloAddress.Host}]:{peer.SiloPort}" };
        Assert.True(names.Any(n => error.Message.Contains(n, StringComparison.Ordinal)), $"'{error.Message}' names none of {string.Join(", ", names)}");
        return error;
    }
}

/// <summary>System time whose timestamps (what the reconnect backoff reads) a test can move forward; timers stay real.</summary>
internal sealed class SteppedTimeProvider : TimeProvider
{
    private long offset;

    public override long GetTimestamp() => base.GetTimestamp() + Interlocked.Read(ref offset);

    public void Advance(TimeSpan delta) => Interlocked.Add(ref offset, (long)(delta.TotalSeconds * TimestampFrequency));
}
