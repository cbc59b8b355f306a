using Actors.Hosting;
using Actors.Runtime.Tests.Grains;
using Actors.Testing;

namespace Actors.Runtime.Tests.Runtime;

/// <summary>Activation and deactivation, in a cluster whose idle collection runs in fractions of a second.</summary>
public sealed class LifecycleTests : IAsyncLifetime
{
    private TestCluster cluster = null!;

    public async Task InitializeAsync()
    {
        cluster = new TestClusterBuilder(2)
            .AddConfiguration("Actors:GrainCollection:CollectionAge", "00:00:00.500")
            .AddConfiguration("Actors:GrainCollection:CollectionQuantum", "00:00:00.100")
            .AddConfiguration("Actors:Messaging:ResponseTimeout", "00:00:05")
            .ConfigureSilo(silo => silo.AddMemoryGrainStorage())
            .Build();
        await cluster.DeployAsync();
    }

    public async Task DisposeAsync() => await cluster.DisposeAsync();

    [Fact]
    public async Task FirstCallActivatesTheGrainAndRunsOnActivateAsyncFirst()
    {
        var key = Keys.New("first-call");
        var grain = cluster.Client.GetGrain<IProbeGrain>(key);
        Assert.Null(cluster.FindActivationSilo(grain));

        Assert.Equal(1, await grain.ActivationNumber());

        // The activation may already be idle-collected here (collection age 0.5 s), so its events are what is checked.
        Assert.StartsWith("activate:", GrainEvents.For(key)[0]);
        Assert.Single(GrainEvents.For(key), e => e.StartsWith("activate:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task IdleActivationIsCollectedAndOnDeactivateAsyncRuns()
    {
        var key = Keys.New("idle");
        var grain = cluster.Client.GetGrain<IProbeGrain>(key);
        await grain.WhereAmI();

        await Eventually.UntilAsync(() => cluster.FindActivationSilo(grain) is null, "the idle activation to be collected",
            () => string.Join(", ", GrainEvents.For(key)));

        Assert.Contains($"deactivate:{DeactivationReasonCode.ActivationIdle}", GrainEvents.For(key));
        Assert.Equal(2, await grain.ActivationNumber());
    }

    [Fact]
    public async Task DeactivateOnIdleEndsTheActivationAfterTheCall()
    {
        var key = Keys.New("deactivate");
        var grain = cluster.Client.GetGrain<IProbeGrain>(key);

        await grain.Deactivate();

        await Eventually.UntilAsync(() => GrainEvents.For(key).Contains($"deactivate:{DeactivationReasonCode.ApplicationRequested}"),
            "OnDeactivateAsync after DeactivateOnIdle", () => string.Join(", ", GrainEvents.For(key)));
        Assert.Equal(2, await grain.ActivationNumber());
    }

    [Fact]
    public async Task InconsistentStateExceptionReachesTheCallerAndDeactivates()
    {
        var key = Keys.New("inconsistent");
        var grain = cluster.Client.GetGrain<IProbeGrain>(key);
        await grain.WhereAmI();

        var error = await Assert.ThrowsAsync<InconsistentStateException>(() => grain.Throw("inconsistent", "stale etag"));

        Assert.Equal("stale etag", error.Message);
        await Eventually.UntilAsync(() => GrainEvents.For(key).Contains($"deactivate:{DeactivationReasonCode.InconsistentState}"),
            "the activation to deactivate", () => string.Join(", ", GrainEvents.For(key)));
        Assert.Equal(2, await grain.ActivationNumber());
    }

    [Fact]
    public async Task GracefulStopRunsOnDeactivateAsyncAndTheGrainMoves()
    {
        var key = Keys.New("graceful");
        var grain = cluster.Client.GetGrain<IProbeGrain>(key);
        await grain.KeepAlive(60);
        var host = cluster.FindActivationSilo(grain)!;
        var extra = await cluster.StartAdditionalSiloAsync();
        await cluster.WaitForLivenessToStabilizeAsync();

        await cluster.StopSiloAsync(host);

        Assert.Contains($"deactivate:{DeactivationReasonCode.ShuttingDown}", GrainEvents.For(key));
        await cluster.WaitForLivenessToStabilizeAsync();
        Assert.NotEqual(host.SiloAddress.ToString(), await grain.WhereAmI());
        Assert.True(extra.IsActive);
    }

    [Fact]
    public async Task PersistentStateIsReadBeforeActivationAndSurvivesDeactivation()
    {
        var grain = cluster.Client.GetGrain<IStatefulGrain>(Keys.New("stateful"));
        Assert.Equal(1, await grain.Increment());
        Assert.Equal(2, await grain.Increment());
        var etag = await grain.Etag();

        await Eventually.UntilAsync(() => cluster.FindActivationSilo(grain) is null, "the idle activation to be collected", () => "still active");

        Assert.Equal(2, await grain.Read());
        Assert.Equal(etag, await grain.Etag());
    }

    [Fact]
    public async Task MissingStorageProviderIsNamedInTheError()
    {
        await using var bare = new TestClusterBuilder(1).Build();
        await bare.DeployAsync();
        var grain = bare.Client.GetGrain<IStatefulGrain>(Keys.New("nostorage"));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => grain.Read());

        Assert.Contains("'Default'", error.Message);
        Assert.Contains("AddMemoryGrainStorage", error.Message);
    }
}
