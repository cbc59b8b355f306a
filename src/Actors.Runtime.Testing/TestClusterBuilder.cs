using Actors.Hosting;

namespace Actors.Testing;

/// <summary>Builds a <see cref="TestCluster"/>.</summary>
public sealed class TestClusterBuilder
{
    private readonly List<Action<ISiloBuilder>> siloConfigurations = new();
    private readonly List<Action<IClientBuilder>> clientConfigurations = new();

    public TestClusterBuilder(int initialSilosCount = 2)
    {
        Options.InitialSilosCount = initialSilosCount;
    }

    public TestClusterOptions Options { get; } = new();

    /// <summary>Adds a silo configuration step (runs for every silo, in order).</summary>
    public TestClusterBuilder ConfigureSilo(Action<ISiloBuilder> configure)
    {
        siloConfigurations.Add(configure);
        return this;
    }

    /// <summary>Adds a client configuration step.</summary>
    public TestClusterBuilder ConfigureClient(Action<IClientBuilder> configure)
    {
        clientConfigurations.Add(configure);
        return this;
    }

    /// <summary>Sets a configuration value for every silo and client (e.g. "Actors:Messaging:ResponseTimeout").</summary>
    public TestClusterBuilder AddConfiguration(string key, string? value)
    {
        Options.Configuration[key] = value;
        return this;
    }

    public TestCluster Build() => new(Options, siloConfigurations.ToArray(), clientConfigurations.ToArray());
}
