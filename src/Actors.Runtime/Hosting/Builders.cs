using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Actors.Hosting;

internal sealed class SiloBuilder(IServiceCollection services, IConfiguration configuration) : ISiloBuilder
{
    public IServiceCollection Services { get; } = services;

    public IConfiguration Configuration { get; } = configuration;
}

internal sealed class ClientBuilder(IServiceCollection services, IConfiguration configuration) : IClientBuilder
{
    public IServiceCollection Services { get; } = services;

    public IConfiguration Configuration { get; } = configuration;
}

/// <summary>Helpers on the builders.</summary>
public static class ActorsBuilderExtensions
{
    /// <summary>Configures an options class of the silo (e.g. <c>silo.Configure&lt;SiloOptions&gt;(o =&gt; o.Name = "a")</c>).</summary>
    public static ISiloBuilder Configure<TOptions>(this ISiloBuilder builder, Action<TOptions> configure)
        where TOptions : class
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.Configure(configure);
        return builder;
    }

    /// <summary>Configures an options class of the client.</summary>
    public static IClientBuilder Configure<TOptions>(this IClientBuilder builder, Action<TOptions> configure)
        where TOptions : class
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.Configure(configure);
        return builder;
    }

    /// <summary>Uses a membership view shared in this process (what <c>TestCluster</c> does) instead of
    /// the static peer list; the silo writes its own row in it.</summary>
    public static ISiloBuilder UseStaticMembership(this ISiloBuilder builder, Membership.StaticMembershipSource source)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddSingleton(source);
        return builder;
    }

    /// <summary>The client learns gateways from a membership view shared in this process.</summary>
    public static IClientBuilder UseStaticMembership(this IClientBuilder builder, Membership.StaticMembershipSource source)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddSingleton<Membership.IClusterMembershipService>(new Membership.StaticClusterMembershipService(source, null));
        return builder;
    }
}
