using Actors.Hosting;
using Actors.Membership;
using Actors.Networking;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Actors.Testing;

/// <summary>One silo of a <see cref="TestCluster"/>: its own host and DI container, real TCP ports.</summary>
public sealed class SiloHandle
{
    internal SiloHandle(string name, int siloPort, int gatewayPort, IHost host)
    {
        Name = name;
        SiloPort = siloPort;
        GatewayPort = gatewayPort;
        Host = host;
        Silo = host.Services.GetRequiredService<Silo>();
    }

    public string Name { get; }

    public int SiloPort { get; }

    public int GatewayPort { get; }

    public IHost Host { get; }

    /// <summary>The silo's services (its own container).</summary>
    public IServiceProvider Services => Host.Services;

    public Silo Silo { get; }

    public SiloAddress SiloAddress => Silo.SiloAddress;

    /// <summary>Grain calls made through this factory start on this silo.</summary>
    public IGrainFactory GrainFactory => Silo.GrainFactory;

    /// <summary>This silo's fault injector.</summary>
    public NetworkFaultInjector Faults => Services.GetRequiredService<NetworkFaultInjector>();

    /// <summary>False once killed or stopped.</summary>
    public bool IsActive { get; internal set; } = true;

    public override string ToString() => $"{Name} ({SiloAddress})";
}
