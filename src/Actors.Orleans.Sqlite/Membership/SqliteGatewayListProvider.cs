using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Messaging;
using Orleans.Runtime;

namespace Actors.Orleans.Sqlite;

/// <summary>
/// The client side of SQLite clustering: the gateways are the Active silos of the cluster that
/// listen for clients (<see cref="MembershipEntry.ProxyPort"/> above 0), read from the file the
/// silos share.
/// </summary>
/// <remarks>Thread-safe. Reads only; never writes a row. A cluster whose silos have not started yet
/// has no gateways (an empty list), not an error.</remarks>
public sealed class SqliteGatewayListProvider : IGatewayListProvider
{
    private readonly SqliteDatabase database;
    private readonly string clusterId;
    private readonly Lazy<Task> schema;

    public SqliteGatewayListProvider(IOptions<SqliteClusteringOptions> options, IOptions<ClusterOptions> clusterOptions)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(clusterOptions);
        options.Value.Validate();
        if (string.IsNullOrWhiteSpace(clusterOptions.Value.ClusterId))
        {
            throw new OrleansConfigurationException("ClusterOptions.ClusterId is empty; the client finds its gateways by cluster id.");
        }

        database = new SqliteDatabase(options.Value.DatabasePath, options.Value.BusyTimeout, $"{nameof(SqliteClusteringOptions)}.{nameof(SqliteClusteringOptions.DatabasePath)}");
        clusterId = clusterOptions.Value.ClusterId;
        MaxStaleness = options.Value.MaxStaleness;
        schema = new Lazy<Task>(() => Task.Run(() => database.Initialize(SqliteMembershipTable.Schema)), LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <inheritdoc/>
    public TimeSpan MaxStaleness { get; }

    /// <inheritdoc/>
    [Obsolete("Orleans considers every gateway list provider updatable.")]
    public bool IsUpdatable => true;

    /// <summary>Creates the schema if no silo has yet, so a client may start before the silos.</summary>
    public Task InitializeGatewayListProviderAsync(CancellationToken cancellationToken = default) => schema.Value.WaitAsync(cancellationToken);

    public async Task<IList<Uri>> GetGatewaysAsync(CancellationToken cancellationToken = default)
    {
        await schema.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
        return await database.ReadAsync((connection, transaction) =>
        {
            using var select = SqliteDatabase.Command(
                connection,
                transaction,
                "SELECT address, proxy_port FROM orleans_membership WHERE cluster_id = $cluster AND status = $active AND proxy_port > 0");
            select.Parameters.AddWithValue("$cluster", clusterId);
            select.Parameters.AddWithValue("$active", (int)SiloStatus.Active);
            var gateways = new List<Uri>();
            using var reader = select.ExecuteReader();
            while (reader.Read())
            {
                var silo = SiloAddress.FromParsableString(reader.GetString(0));
                gateways.Add(SiloAddress.New(silo.Endpoint.Address, reader.GetInt32(1), silo.Generation).ToGatewayUri());
            }

            return (IList<Uri>)gateways;
        }, cancellationToken).ConfigureAwait(false);
    }

    // Orleans 10.4.2 marks the members without a token obsolete; they forward to the *Async ones.
    Task IGatewayListProvider.InitializeGatewayListProvider() => InitializeGatewayListProviderAsync();

    Task<IList<Uri>> IGatewayListProvider.GetGateways() => GetGatewaysAsync();
}
