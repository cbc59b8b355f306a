using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Actors.Hosting;

/// <summary>
/// Configures a silo inside <c>builder.UseActors(silo =&gt; ...)</c>. Providers add extension methods
/// on it (<c>UseSqliteClustering</c>, <c>AddSqliteGrainStorage</c>, ...). Registration conventions:
/// a clustering provider registers an <c>IMembershipTable</c>; the table-based membership oracle
/// registers <see cref="Membership.IClusterMembershipService"/> and <see cref="Membership.IMembershipLifecycle"/>;
/// storage providers register keyed <see cref="Persistence.IGrainStorage"/> singletons by name.
/// </summary>
public interface ISiloBuilder
{
    IServiceCollection Services { get; }

    IConfiguration Configuration { get; }
}

/// <summary>Configures a cluster client inside <c>builder.UseActorsClient(client =&gt; ...)</c>.</summary>
public interface IClientBuilder
{
    IServiceCollection Services { get; }

    IConfiguration Configuration { get; }
}
