using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Actors.Configuration;
using Actors.Hosting;
using Actors.Client;
using Actors.Membership;
using Actors.Networking;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Actors.Testing;

/// <summary>
/// N silos in one process, each with its own host and DI container, talking real TCP on free loopback
/// ports, plus a connected client. Membership is a static view shared by the silos and the client
/// (<see cref="Membership"/>) unless a silo configuration registers a clustering provider; with static
/// membership <see cref="KillSiloAsync"/> marks the silo Dead at once (standing in for failure detection).
/// </summary>
/// <remarks>Not thread-safe: drive it from one test at a time.</remarks>
public sealed class TestCluster : IAsyncDisposable
{
    private static readonly HashSet<int> HandedOutPorts = [];

    private readonly TestClusterOptions options;
    private readonly Action<ISiloBuilder>[] siloConfigurations;
    private readonly Action<IClientBuilder>[] clientConfigurations;
    private readonly List<SiloHandle> silos = new();
    private readonly List<IHost> clientHosts = new();
    private int nextSiloIndex;

    internal TestCluster(TestClusterOptions options, Action<ISiloBuilder>[] siloConfigurations, Action<IClientBuilder>[] clientConfigurations)
    {
        this.options = options;
        this.siloConfigurations = siloConfigurations;
        this.clientConfigurations = clientConfigurations;
    }

    /// <summary>The static membership view shared in this process (used when no clustering provider is configured).</summary>
    public StaticMembershipSource Membership { get; } = new();

    /// <summary>Silos that are running.</summary>
    public IReadOnlyList<SiloHandle> Silos => silos.Where(s => s.IsActive).ToArray();

    /// <summary>Every silo ever started, including killed and stopped ones.</summary>
    public IReadOnlyList<SiloHandle> AllSilos => silos.ToArray();

    public SiloHandle Primary => Silos[0];

    /// <summary>The client started with the cluster.</summary>
    public IClusterClient Client { get; private set; } = null!;

    public IGrainFactory GrainFactory => Client;

    public TestClusterOptions Options => options;

    /// <summary>Starts the initial silos and the client.</summary>
    public async Task DeployAsync(CancellationToken cancellationToken = default)
    {
        for (var i = 0; i < options.InitialSilosCount; i++)
        {
            await StartSiloAsync(cancellationToken).ConfigureAwait(false);
        }

        if (options.StartClient)
        {
            Client = await StartClientAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Starts one more silo.</summary>
    public Task<SiloHandle> StartAdditionalSiloAsync(CancellationToken cancellationToken = default) => StartSiloAsync(cancellationToken);

    /// <summary>Starts another connected client (its own host).</summary>
    public async Task<IClusterClient> StartClientAsync(CancellationToken cancellationToken = default)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(options.Configuration);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        options.ConfigureLogging?.Invoke(builder.Logging);
        builder.UseActorsClient(client =>
        {
            foreach (var configure in clientConfigurations)
            {
                configure(client);
            }

            if (!client.Services.Any(d => d.ServiceType == typeof(IClusterMembershipService)))
            {
                client.UseStaticMembership(Membership);
            }
        });
        var host = builder.Build();
        await host.StartAsync(cancellationToken).ConfigureAwait(false);
        clientHosts.Add(host);
        return host.Services.GetRequiredService<IClusterClient>();
    }

    /// <summary>Abrupt stop: sockets reset, no goodbye, membership Abort(), no grain code runs.</summary>
    public async Task KillSiloAsync(SiloHandle silo)
    {
        ArgumentNullException.ThrowIfNull(silo);
        silo.IsActive = false;
        silo.Silo.Abort("killed by the test cluster");
        Membership.TrySetStatus(silo.SiloAddress, SiloStatus.Dead);
        await DisposeHostAsync(silo.Host).ConfigureAwait(false);
        await WaitForConnectionsToDropAsync(silo.SiloAddress).ConfigureAwait(false);
    }

    /// <summary>Graceful stop: grains deactivate, the silo leaves membership, connections close.</summary>
    public async Task StopSiloAsync(SiloHandle silo, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(silo);
        silo.IsActive = false;
        await silo.Host.StopAsync(cancellationToken).ConfigureAwait(false);
        await DisposeHostAsync(silo.Host).ConfigureAwait(false);
        await WaitForConnectionsToDropAsync(silo.SiloAddress).ConfigureAwait(false);
    }

    /// <summary>A phase barrier after a stop or kill: every running silo and client has seen its
    /// connections to <paramref name="gone"/> close (so the next call does not race the socket's end).</summary>
    private async Task WaitForConnectionsToDropAsync(SiloAddress gone)
    {
        var deadline = DateTime.UtcNow + options.StabilizationTimeout;
        while (true)
        {
            var holders = Silos
                .Where(s => s.Services.GetRequiredService<SiloConnectionManager>().Connections
                    .Any(c => !c.IsClosed && c.RemoteSilo is { } peer && peer.Equals(gone)))
                .Select(s => s.Name)
                .Concat(clientHosts
                    .Select(h => h.Services.GetRequiredService<ClusterClient>())
                    .Where(c => gone.Equals(c.CurrentGateway))
                    .Select(_ => "a client"))
                .ToArray();
            if (holders.Length == 0)
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Connections to the stopped silo {gone} stayed open on: {string.Join(", ", holders)}.");
            }

            await Task.Delay(10).ConfigureAwait(false);
        }
    }

    /// <summary>Stops a silo gracefully and starts it again with the same name and ports (a new generation).</summary>
    public async Task<SiloHandle> RestartSiloAsync(SiloHandle silo, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(silo);
        if (silo.IsActive)
        {
            await StopSiloAsync(silo, cancellationToken).ConfigureAwait(false);
        }

        var restarted = await StartSiloAsync(silo.Name, silo.SiloPort, silo.GatewayPort, cancellationToken).ConfigureAwait(false);
        return restarted;
    }

    /// <summary>Waits until every running silo's membership view has exactly the running silos as Active.</summary>
    public async Task WaitForLivenessToStabilizeAsync(TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? options.StabilizationTimeout);
        var expected = Silos.Select(s => s.SiloAddress).OrderBy(a => a.ToString(), StringComparer.Ordinal).ToArray();
        string seen = string.Empty;
        while (true)
        {
            var stable = true;
            foreach (var silo in Silos)
            {
                var view = silo.Services.GetRequiredService<IClusterMembershipService>().CurrentSnapshot;
                var active = view.ActiveSilos.ToArray();
                if (!active.SequenceEqual(expected))
                {
                    stable = false;
                    seen = $"{silo.Name} sees Active [{string.Join(", ", active.Select(a => a.ToString()))}] at v{view.Version}";
                    break;
                }
            }

            if (stable)
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException(
                    $"Membership did not stabilize: expected Active [{string.Join(", ", expected.Select(a => a.ToString()))}] on every silo; {seen}.");
            }

            await Task.Delay(20).ConfigureAwait(false);
        }
    }

    /// <summary>The running silo hosting an activation of <paramref name="grainId"/>, or null.</summary>
    public SiloHandle? FindActivationSilo(GrainId grainId) => Silos.FirstOrDefault(s => s.Silo.HostsActivation(grainId));

    /// <summary>The running silo hosting an activation of the grain behind <paramref name="grain"/>, or null.</summary>
    public SiloHandle? FindActivationSilo(IAddressable grain) => FindActivationSilo(grain.GetGrainId());

    public async ValueTask DisposeAsync()
    {
        foreach (var host in clientHosts)
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await host.StopAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (Exception)
            {
                // Disposal must not fail the test that already ran.
            }

            await DisposeHostAsync(host).ConfigureAwait(false);
        }

        foreach (var silo in Silos)
        {
            silo.IsActive = false;
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(3));
                await silo.Host.StopAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (Exception)
            {
                silo.Silo.Abort("test cluster disposal");
            }

            await DisposeHostAsync(silo.Host).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// A free TCP port on the loopback interface (bound then released), never one this process has handed
    /// out before: the kernel may offer the same just-released port to two probes in a row, and a silo whose
    /// silo and gateway ports are equal fails to start.
    /// </summary>
    public static int GetFreePort()
    {
        while (true)
        {
            using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            var port = ((IPEndPoint)probe.LocalEndPoint!).Port;
            lock (HandedOutPorts)
            {
                if (HandedOutPorts.Add(port))
                {
                    return port;
                }
            }
        }
    }

    private Task<SiloHandle> StartSiloAsync(CancellationToken cancellationToken)
    {
        var index = nextSiloIndex++;
        return StartSiloAsync(options.SiloNamePrefix + index.ToString(CultureInfo.InvariantCulture), GetFreePort(), GetFreePort(), cancellationToken);
    }

    private async Task<SiloHandle> StartSiloAsync(string name, int siloPort, int gatewayPort, CancellationToken cancellationToken)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(options.Configuration);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        options.ConfigureLogging?.Invoke(builder.Logging);
        builder.UseActors(silo =>
        {
            silo.Configure<SiloOptions>(o =>
            {
                o.Name = name;
                o.AdvertisedHost = options.Host;
                o.SiloPort = siloPort;
                o.GatewayPort = gatewayPort;
                o.DataDirectory = Path.Combine(Path.GetTempPath(), "actors-testcluster", name);
            });
            foreach (var configure in siloConfigurations)
            {
                configure(silo);
            }

            if (!silo.Services.Any(d => d.ServiceType == typeof(IClusterMembershipService)))
            {
                silo.UseStaticMembership(Membership);
            }
        });
        var host = builder.Build();
        var handle = new SiloHandle(name, siloPort, gatewayPort, host);
        silos.Add(handle);
        try
        {
            await host.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            handle.IsActive = false;
            await DisposeHostAsync(host).ConfigureAwait(false);
            throw;
        }

        return handle;
    }

    private static async Task DisposeHostAsync(IHost host)
    {
        if (host is IAsyncDisposable asyncDisposable)
        {
            await asyncDisposable.DisposeAsync().ConfigureAwait(false);
        }
        else
        {
            host.Dispose();
        }
    }
}
