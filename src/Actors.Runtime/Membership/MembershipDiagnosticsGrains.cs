using Actors.Placement;
using Microsoft.Extensions.DependencyInjection;

namespace Actors.Membership;

/// <summary>
/// One silo's membership view, asked remotely (health checks, the <c>actors cluster</c> command,
/// tests that run silos as separate processes). The key names the silo: "view@&lt;silo name&gt;".
/// </summary>
public interface IMembershipViewGrain : IGrainWithStringKey
{
    /// <summary>The hosting silo's address ("host:port@generation").</summary>
    Task<string> GetSilo();

    /// <summary>The status of the newest incarnation named <paramref name="siloName"/> in the hosting
    /// silo's view ("Active", "Dead", ...; "None" if it has never seen that name).</summary>
    Task<string> GetStatus(string siloName);

    /// <summary>The hosting silo's membership version.</summary>
    Task<long> GetVersion();
}

/// <summary>Answers with the silo that hosts it; any key. Used to check that every grain is served.</summary>
public interface IClusterPingGrain : IGrainWithStringKey
{
    /// <summary>The hosting silo's address ("host:port@generation").</summary>
    Task<string> Ping();
}

/// <summary>Pinned to the silo its key names.</summary>
[SiloPinnedPlacement]
public sealed class MembershipViewGrain : Grain, IMembershipViewGrain
{
    public Task<string> GetSilo() => Task.FromResult(GrainContext.Silo.ToString());

    public Task<string> GetStatus(string siloName) =>
        Task.FromResult((View.FindByName(siloName)?.Status ?? SiloStatus.None).ToString());

    public Task<long> GetVersion() => Task.FromResult(View.Version);

    private ClusterMembershipSnapshot View =>
        GrainContext.ServiceProvider.GetRequiredService<IClusterMembershipService>().CurrentSnapshot;
}

/// <summary>Placed by hashing its key over the Active silos.</summary>
public sealed class ClusterPingGrain : Grain, IClusterPingGrain
{
    public Task<string> Ping() => Task.FromResult(GrainContext.Silo.ToString());
}
