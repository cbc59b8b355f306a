using Actors.Configuration;
using Actors.Membership;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Actors.Hosting;

/// <summary>The silo executable's default: SQLite clustering and SQLite grain storage, no other service needed.</summary>
public static class EmbeddedSqliteHostingExtensions
{
    /// <summary>The membership file under <see cref="SiloOptions.DataDirectory"/> when none is configured.</summary>
    public const string DefaultClusterFileName = "cluster.db";

    /// <summary>The grain-state file under <see cref="SiloOptions.DataDirectory"/> when none is configured.</summary>
    public const string DefaultGrainsFileName = "grains.db";

    /// <summary>
    /// SQLite clustering (file from "Actors:Clustering:Sqlite:DatabasePath", else
    /// <c>&lt;DataDirectory&gt;/cluster.db</c>) unless static peers are configured
    /// ("Actors:Silo:Peers"), and SQLite grain storage "Default" (file from
    /// "Actors:Storage:Default:DatabasePath", else <c>&lt;DataDirectory&gt;/grains.db</c>). Silos on
    /// one machine form one cluster by pointing both paths at shared files.
    /// </summary>
    public static ISiloBuilder UseEmbeddedSqlite(this ISiloBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (!builder.Configuration.GetSection("Actors:Silo:Peers").GetChildren().Any())
        {
            builder.UseSqliteClustering(_ => { });
            builder.Services.AddOptions<SqliteClusteringOptions>().PostConfigure<IOptions<SiloOptions>>((o, silo) =>
            {
                if (string.IsNullOrWhiteSpace(o.DatabasePath))
                {
                    o.DatabasePath = Path.Combine(silo.Value.DataDirectory, DefaultClusterFileName);
                }
            });
        }

        builder.AddSqliteGrainStorage(GrainStorageHostingExtensions.DefaultProviderName, _ => { });
        builder.Services.AddOptions<Persistence.SqliteGrainStorageOptions>(GrainStorageHostingExtensions.DefaultProviderName)
            .PostConfigure<IOptions<SiloOptions>>((o, silo) =>
            {
                if (string.IsNullOrWhiteSpace(o.DatabasePath))
                {
                    o.DatabasePath = Path.Combine(silo.Value.DataDirectory, DefaultGrainsFileName);
                }
            });
        return builder;
    }
}
