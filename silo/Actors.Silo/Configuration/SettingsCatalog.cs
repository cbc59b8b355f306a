using System.Globalization;
using System.Text;
using Actors.Broker.Configuration;
using Actors.Kafka.Listener;
using Actors.Kafka.Security;

namespace Actors.Silo.Configuration;

/// <summary>One silo setting: its name in server.properties (Kafka's name where Kafka has one), the configuration key
/// it sets, its unit, default, accepted values and meaning. The catalog drives parsing (file, environment, flags),
/// validation and docs/configuration.md.</summary>
/// <param name="Name">The server.properties key, also the flag <c>--name</c> and the variable <c>ACTORS_NAME</c> (dots as underscores, upper case).</param>
/// <param name="ConfigKey">The configuration key the value goes to (appsettings.json spells it in sections).</param>
/// <param name="Unit">What the number counts, or "text", "true/false" and so on.</param>
/// <param name="Default">The value when nothing sets it.</param>
/// <param name="Accepted">The accepted values, as the error message states them.</param>
/// <param name="Normalize">The value as stored under <paramref name="ConfigKey"/>, or null when it is not accepted.</param>
/// <param name="Description">What it does.</param>
/// <param name="Flag">A short flag besides <c>--Name</c> (e.g. <c>--port</c>), or null.</param>
/// <param name="Specificity">When several settings set one key within one source, the higher wins (log.retention.ms over .minutes over .hours).</param>
internal sealed record Setting(
    string Name,
    string ConfigKey,
    string Unit,
    string Default,
    string Accepted,
    Func<string, string?> Normalize,
    string Description,
    string? Flag = null,
    int Specificity = 0)
{
    /// <summary>The environment variable: ACTORS_ and the name in upper case with dots as underscores.</summary>
    public string EnvironmentVariable => "ACTORS_" + Name.ToUpperInvariant().Replace('.', '_');

    /// <summary>Whether the value set under <see cref="ConfigKey"/> is this setting's own (not scaled from another unit).</summary>
    public bool OwnsKey => Specificity == 0 || Specificity == int.MaxValue;
}

/// <summary>Every setting of the silo executable. See docs/configuration.md (written from this list by
/// <c>Actors.Silo --settings-markdown</c>; a test keeps them equal).</summary>
internal static class SettingsCatalog
{
    /// <summary>Keys that Kafka's server.properties has and Actors does not need, with why; they are reported, not refused.</summary>
    public static readonly IReadOnlyDictionary<string, string> Explained = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        ["zookeeper.connect"] = "not needed: membership is Orleans cluster membership (clustering.provider: a SQLite file or an Azure Storage table the silos share), so there is no ZooKeeper",
        ["zookeeper.connection.timeout.ms"] = "not needed: there is no ZooKeeper; failure detection is Orleans' (Actors:Membership)",
        ["zookeeper.session.timeout.ms"] = "not needed: there is no ZooKeeper; failure detection is Orleans' (Actors:Membership)",
        ["process.roles"] = "not needed: every silo is a broker, and the controller is an Orleans grain",
        ["controller.quorum.voters"] = "not needed: the controller is an Orleans grain; there is no KRaft quorum",
        ["node.id"] = "not needed: broker.id names the silo",
        ["num.network.threads"] = "not needed: the Kafka listener uses .NET's asynchronous sockets",
        ["num.io.threads"] = "not needed: requests run on Orleans' scheduler",
        ["num.recovery.threads.per.data.dir"] = "not needed: each partition log recovers when its replica starts",
        ["socket.send.buffer.bytes"] = "not needed: the operating system's socket buffers are used",
        ["socket.receive.buffer.bytes"] = "not needed: the operating system's socket buffers are used",
        ["offsets.topic.replication.factor"] = "not needed: committed offsets are Orleans grain state (grain.storage.provider), not an internal topic",
        ["transaction.state.log.replication.factor"] = "not needed: there is no transaction state topic",
        ["transaction.state.log.min.isr"] = "not needed: there is no transaction state topic",
    };

    private static readonly BrokerOptions BrokerDefaults = new();

    private static readonly KafkaListenerOptions KafkaDefaults = new();

    /// <summary>The settings, in the order docs/configuration.md lists them.</summary>
    public static readonly IReadOnlyList<Setting> All =
    [
        // The silo (Orleans).
        Text("broker.id", "Actors:Silo:Name", "the machine name", "The silo's name in the cluster; its replicas are named after it. Kafka's broker.id (any text, not only a number).", "--name"),
        Text("advertised.host", "Actors:Silo:AdvertisedHost", "127.0.0.1", "The IP address (or a host name resolving to one) other silos and Kafka clients reach this silo at.", "--host"),
        Integer("silo.port", "Actors:Silo:SiloPort", "TCP port", 1, 65535, "11111", "Silo-to-silo (Orleans) port.", "--port"),
        Integer("gateway.port", "Actors:Silo:GatewayPort", "TCP port", 0, 65535, "30000", "Orleans client gateway port; 0 turns the gateway off.", "--gateway-port"),
        Text("data.dir", "Actors:Silo:DataDirectory", "data", "The silo's folder: SQLite files and, unless log.dirs says otherwise, partition logs (<data.dir>/logs). Relative to the working directory.", "--data"),
        Text("cluster.id", "Actors:Silo:ClusterId", "actors", "Silos with the same cluster id form one cluster.", "--cluster-id"),
        Text("service.id", "Actors:Silo:ServiceId", "actors", "Orleans' service id: keeps grain state apart between services sharing one storage account."),
        Choice("clustering.provider", "Actors:Clustering:Provider", "Sqlite", "The membership table: Sqlite (one file shared by the silos of one machine) or AzureTable (silos on several VMs).", "Sqlite", "AzureTable"),
        Text("clustering.connection.string", "Actors:Clustering:ConnectionString", "(none)", "The Azure Storage connection string of the membership table; required when clustering.provider is AzureTable."),
        Text("clustering.sqlite.path", "Actors:Clustering:Sqlite:DatabasePath", "<data.dir>/cluster.db", "The SQLite membership file when clustering.provider is Sqlite."),
        Choice("grain.storage.provider", "Actors:GrainStorage:Provider", "Sqlite", "Where grain state (topic metadata, producer ids, committed offsets) lives: Sqlite or AzureBlob.", "Sqlite", "AzureBlob"),
        Text("grain.storage.connection.string", "Actors:GrainStorage:ConnectionString", "(none)", "The Azure Storage connection string for grain state; required when grain.storage.provider is AzureBlob."),
        Text("grain.storage.sqlite.path", "Actors:GrainStorage:Sqlite:DatabasePath", "<data.dir>/grains.db", "The SQLite grain-state file when grain.storage.provider is Sqlite."),

        // Operations.
        new("http.port", "Actors:Http:Port", "TCP port", "8080", "a port from 1 to 65535, or 0 or none to serve no HTTP",
            v => string.Equals(v, "none", StringComparison.OrdinalIgnoreCase) ? "0" : IntIn(v, 0, 65535),
            "The port of /health, Prometheus /metrics and the web console at /console/ (bound on every interface).", "--http-port"),
        Bool("console.allow.changes", "Actors:Console:AllowChanges", false, "Whether the web console may change the cluster (create and delete topics, add partitions, reset offsets, produce); read-only otherwise."),
        Choice("log.format", "Actors:Logging:Format", "simple", "Console log lines: simple (one line each, UTC timestamp) or json (one JSON object per line).", "simple", "json") with { Flag = "--log-format" },

        // The Kafka listener.
        Integer("kafka.port", "Actors:Kafka:Port", "TCP port", 0, 65535, KafkaListenerOptions.DefaultPort.ToString(CultureInfo.InvariantCulture), "The Kafka port when listeners is not set; 0 takes a free one.", "--kafka-port"),
        new("listeners", "Actors:Kafka:Listeners", "NAME://host:port", "PLAINTEXT://0.0.0.0:9092", "NAME://<ip or empty>:<port>, e.g. PLAINTEXT://0.0.0.0:9092 or SASL_SSL://:9093",
            v => Listener(v, allowEmptyHost: true), "Where the Kafka listeners bind (wins over kafka.port), comma-separated, e.g. SASL_SSL://:9093,PLAINTEXT://127.0.0.1:9092; each name is its security protocol (PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL) or is mapped to one by listener.security.protocol.map. A client is told every broker's address on the listener it came in on."),
        new("advertised.listeners", "Actors:Kafka:AdvertisedListeners", "NAME://host:port", "PLAINTEXT://<advertised.host>:<bound port>", "NAME://<host>:<port>, e.g. PLAINTEXT://10.0.0.4:9092",
            v => Listener(v, allowEmptyHost: false), "What Kafka clients are told to connect to, per listener (the entry with the listener's name; a listener without one advertises advertised.host and its bound port)."),
        Text("listener.security.protocol.map", "Actors:Kafka:SecurityProtocolMap", "(none)", "NAME:PROTOCOL pairs for listener names other than the protocols' own, e.g. EXTERNAL:SASL_SSL."),
        Text("sasl.enabled.mechanisms", "Actors:Kafka:SaslEnabledMechanisms", "SCRAM-SHA-256,SCRAM-SHA-512", "The SASL mechanisms of a SASL listener: SCRAM-SHA-256, SCRAM-SHA-512, PLAIN (PLAIN only over TLS: the password crosses the wire)."),
        Text("ssl.keystore.location", "Actors:Kafka:SslKeystoreLocation", "(none)", "A TLS listener's PEM file: its certificate (with chain) and private key."),
        Choice("ssl.keystore.type", "Actors:Kafka:SslKeystoreType", "PEM", "The keystore file's format; PEM is the one served.", "PEM"),
        Text("ssl.key.password", "Actors:Kafka:SslKeyPassword", "(none)", "The password of an encrypted private key in ssl.keystore.location."),
        Choice("ssl.client.auth", "Actors:Kafka:SslClientAuth", "none", "Client certificates on SSL listeners (mutual TLS): required refuses a client without one signed by a CA of ssl.truststore.location; requested asks for one. The principal is User:<certificate subject>. A SASL_SSL listener asks only with listener.name.<name>.ssl.client.auth (Actors:Kafka:ListenerSslClientAuth:<NAME>).", "none", "requested", "required"),
        Text("ssl.truststore.location", "Actors:Kafka:SslTruststoreLocation", "(none)", "A PEM file with the CA certificates that sign the clients' certificates (needed when ssl.client.auth asks for them)."),
        Choice("ssl.truststore.type", "Actors:Kafka:SslTruststoreType", "PEM", "The truststore file's format; PEM is the one served.", "PEM"),
        Text("authorizer.class.name", "Actors:Kafka:AuthorizerClassName", "(none: no ACL checks)", "Any value turns ACL checks on for every Kafka request (Kafka's org.apache.kafka.metadata.authorizer.StandardAuthorizer works unchanged; acl is enough). See docs/security.md."),
        new("super.users", "Actors:Kafka:SuperUsers", "principals", "(none)", "User:<name> entries separated by ';', e.g. User:admin;User:bob",
            v => SuperUsers(v), "Principals every ACL check allows (the administrators), when authorizer.class.name is set."),
        Bool("allow.everyone.if.no.acl.found", "Actors:Kafka:AllowEveryoneIfNoAclFound", KafkaDefaults.AllowEveryoneIfNoAclFound, "With the authorizer on: whether a resource no ACL names is open to everyone (false: closed to all but super users)."),
        Integer("socket.request.max.bytes", "Actors:Kafka:MaxRequestBytes", "bytes", 1, int.MaxValue, KafkaDefaults.MaxRequestBytes, "The largest request accepted; a larger one closes its connection."),
        Long("queued.max.request.bytes", "Actors:Kafka:MaxQueuedRequestBytes", "bytes", 1, long.MaxValue, KafkaDefaults.MaxQueuedRequestBytes, "Bytes of requests read and not yet handled, across connections; at the bound, reading pauses."),
        Integer("connections.max.idle.ms", "Actors:Kafka:ConnectionsMaxIdleMs", "ms", 1, int.MaxValue, KafkaDefaults.ConnectionsMaxIdleMs, "An idle connection is closed after this long."),
        Integer("max.connections", "Actors:Kafka:MaxConnections", "connections", 1, int.MaxValue, KafkaDefaults.MaxConnections, "Open Kafka connections served at once."),

        // Security between silos and of the HTTP port (TLS on Orleans' connections, console and /metrics authentication).
        Text("cluster.tls.certificate", "Actors:ClusterTls:Certificate", "(none: silo and gateway connections are plaintext)",
            "A PEM file with this silo's certificate (and its private key unless cluster.tls.key names another file). When set, every silo-to-silo and gateway connection is mutual TLS: each end presents its certificate and refuses one the cluster does not trust (cluster.tls.ca). Orleans clients need a certificate too (docs/security.md)."),
        Text("cluster.tls.key", "Actors:ClusterTls:Key", "(the certificate's file)", "A PEM file with the private key of cluster.tls.certificate."),
        Text("cluster.tls.key.password", "Actors:ClusterTls:KeyPassword", "(none)", "The password of an encrypted private key (PKCS#8) in cluster.tls.key."),
        Text("cluster.tls.ca", "Actors:ClusterTls:Ca", "(none: peers must present this silo's own certificate)",
            "A PEM file with the cluster's CA certificate(s): a peer is accepted when its certificate chains to one of them (host names are not checked). Without it, every silo and client must present the same certificate."),
        Choice("http.auth", HttpAuthentication.ConfigKey, "sasl when a Kafka listener uses SASL, none otherwise",
            "Who may use /metrics and the console: sasl asks for HTTP Basic authentication with a user and password of the cluster's SASL users (the SCRAM credentials, as SASL/PLAIN checks them); none lets anyone in. /health is always open and tells only the silo's name, status and Kafka endpoint.", "sasl", "none"),

        // The broker: logs.
        Text("log.dirs", "Actors:Broker:LogDirs", "<data.dir>/logs", "Where partition directories live (one folder; \"{silo}\" is replaced by the silo's name)."),
        Integer("log.segment.bytes", "Actors:Broker:LogSegmentBytes", "bytes", 14, int.MaxValue, BrokerDefaults.LogSegmentBytes, "A segment file rolls when it reaches this size."),
        Long("log.roll.ms", "Actors:Broker:LogRollMs", "ms", 1, long.MaxValue, BrokerDefaults.LogRollMs, "A segment rolls when its first record is this old."),
        Long("log.retention.ms", "Actors:Broker:LogRetentionMs", "ms", -1, long.MaxValue, BrokerDefaults.LogRetentionMs, "Segments older than this are deleted; -1 keeps them forever. Wins over log.retention.minutes and .hours.") with { Specificity = int.MaxValue },
        Scaled("log.retention.minutes", "Actors:Broker:LogRetentionMs", "minutes", 60_000, 2, "log.retention.ms in minutes (wins over log.retention.hours)."),
        Scaled("log.retention.hours", "Actors:Broker:LogRetentionMs", "hours", 3_600_000, 1, "log.retention.ms in hours (Kafka's usual 168)."),
        Long("log.retention.bytes", "Actors:Broker:LogRetentionBytes", "bytes", -1, long.MaxValue, BrokerDefaults.LogRetentionBytes, "Oldest segments of a partition are deleted past this size; -1 is unlimited."),
        Long("log.retention.check.interval.ms", "Actors:Broker:LogRetentionCheckIntervalMs", "ms", 1, long.MaxValue, BrokerDefaults.LogRetentionCheckIntervalMs, "How often retention runs."),
        Integer("message.max.bytes", "Actors:Broker:MessageMaxBytes", "bytes", 0, int.MaxValue, BrokerDefaults.MessageMaxBytes, "The largest record batch accepted."),

        // The broker: topics and replication.
        Integer("num.partitions", "Actors:Broker:NumPartitions", "partitions", 1, 10_000, BrokerDefaults.NumPartitions, "Partitions of a topic created without a count (auto-created topics too)."),
        Integer("default.replication.factor", "Actors:Broker:DefaultReplicationFactor", "replicas", 1, short.MaxValue, BrokerDefaults.DefaultReplicationFactor, "Replicas of a topic created without a replication factor."),
        Integer("min.insync.replicas", "Actors:Broker:MinInsyncReplicas", "replicas", 1, short.MaxValue, BrokerDefaults.MinInsyncReplicas, "In-sync replicas an acks=all produce needs."),
        Bool("auto.create.topics.enable", "Actors:Broker:AutoCreateTopicsEnable", BrokerDefaults.AutoCreateTopicsEnable, "Whether metadata and produce requests for an unknown topic create it."),
        Bool("unclean.leader.election.enable", "Actors:Broker:UncleanLeaderElectionEnable", BrokerDefaults.UncleanLeaderElectionEnable, "Whether an out-of-sync replica may lead when no in-sync one is alive (records may be lost)."),
        Long("replica.lag.time.max.ms", "Actors:Broker:ReplicaLagTimeMaxMs", "ms", 1, long.MaxValue, BrokerDefaults.ReplicaLagTimeMaxMs, "A follower not caught up for this long leaves the ISR."),
        Integer("replica.fetch.wait.max.ms", "Actors:Broker:ReplicaFetchWaitMaxMs", "ms", 0, int.MaxValue, BrokerDefaults.ReplicaFetchWaitMaxMs, "A follower's long-poll wait."),
        Integer("replica.fetch.max.bytes", "Actors:Broker:ReplicaFetchMaxBytes", "bytes", 1, int.MaxValue, BrokerDefaults.ReplicaFetchMaxBytes, "Bytes a follower asks for per partition per fetch."),
        Bool("auto.leader.rebalance.enable", "Actors:Broker:AutoLeaderRebalanceEnable", BrokerDefaults.AutoLeaderRebalanceEnable, "Whether leadership moves back to the preferred replica."),
        Integer("leader.imbalance.check.interval.seconds", "Actors:Broker:LeaderImbalanceCheckIntervalSeconds", "seconds", 1, int.MaxValue, BrokerDefaults.LeaderImbalanceCheckIntervalSeconds, "How often the preferred-leader check runs."),
        Long("producer.id.expiration.ms", "Actors:Broker:ProducerIdExpirationMs", "ms", 1, long.MaxValue, BrokerDefaults.ProducerIdExpirationMs, "Idempotence state of a silent producer is dropped after this."),

        Integer("metrics.refresh.ms", "Actors:Broker:MetricsRefreshMs", "ms", 100, int.MaxValue, BrokerDefaults.MetricsRefreshMs, "How often the gauges of /metrics (under-replicated and offline partitions, consumer lag) are recomputed."),

        // The broker: consumer groups.
        Integer("offsets.retention.minutes", "Actors:Broker:OffsetsRetentionMinutes", "minutes", 1, int.MaxValue, BrokerDefaults.OffsetsRetentionMinutes, "Offsets of an empty group expire after this."),
        Integer("group.initial.rebalance.delay.ms", "Actors:Broker:GroupInitialRebalanceDelayMs", "ms", 0, int.MaxValue, BrokerDefaults.GroupInitialRebalanceDelayMs, "The first rebalance of an empty classic group waits this long for more members."),
        Integer("group.min.session.timeout.ms", "Actors:Broker:GroupMinSessionTimeoutMs", "ms", 1, int.MaxValue, BrokerDefaults.GroupMinSessionTimeoutMs, "The shortest session timeout a classic member may ask for."),
        Integer("group.max.session.timeout.ms", "Actors:Broker:GroupMaxSessionTimeoutMs", "ms", 1, int.MaxValue, BrokerDefaults.GroupMaxSessionTimeoutMs, "The longest session timeout a classic member may ask for."),
        Integer("group.max.size", "Actors:Broker:ClassicGroupMaxSize", "members", 1, int.MaxValue, BrokerDefaults.ClassicGroupMaxSize, "Most members in one classic group."),
        Integer("group.consumer.session.timeout.ms", "Actors:Broker:GroupSessionTimeoutMs", "ms", 1, int.MaxValue, BrokerDefaults.GroupSessionTimeoutMs, "Session timeout of KIP-848 (consumer protocol) members."),
        Integer("group.consumer.heartbeat.interval.ms", "Actors:Broker:GroupHeartbeatIntervalMs", "ms", 1, int.MaxValue, BrokerDefaults.GroupHeartbeatIntervalMs, "Heartbeat interval of KIP-848 members (below the session timeout)."),
        Integer("group.consumer.max.size", "Actors:Broker:GroupMaxSize", "members", 1, int.MaxValue, BrokerDefaults.GroupMaxSize, "Most members in one KIP-848 group."),
        Integer("max.poll.interval.ms", "Actors:Broker:GroupRebalanceTimeoutMs", "ms", 1, int.MaxValue, BrokerDefaults.GroupRebalanceTimeoutMs, "Default rebalance timeout: a member that does not come back within it is removed."),
    ];

    private static readonly Dictionary<string, Setting> ByName = All.ToDictionary(s => s.Name, StringComparer.OrdinalIgnoreCase);

    private static readonly Dictionary<string, Setting> ByFlag = All
        .SelectMany(s => s.Flag is null ? [("--" + s.Name, s)] : new[] { ("--" + s.Name, s), (s.Flag, s) })
        .ToDictionary(p => p.Item1, p => p.Item2, StringComparer.Ordinal);

    private static readonly Dictionary<string, Setting> ByVariable = All.ToDictionary(s => s.EnvironmentVariable, StringComparer.OrdinalIgnoreCase);

    public static Setting? Find(string name) => ByName.GetValueOrDefault(name);

    public static Setting? FindFlag(string flag) => ByFlag.GetValueOrDefault(flag);

    public static Setting? FindVariable(string variable) => ByVariable.GetValueOrDefault(variable);

    /// <summary>docs/configuration.md.</summary>
    public static string Markdown()
    {
        var text = new StringBuilder();
        text.Append("# Silo configuration\n\n")
            .Append("<!-- Written by `dotnet silo/Actors.Silo/bin/Release/net10.0/Actors.Silo.dll --settings-markdown > docs/configuration.md`\n")
            .Append("     from silo/Actors.Silo/Configuration/SettingsCatalog.cs; a test fails when the two differ. -->\n\n")
            .Append("The silo reads its settings from four places; a later one wins:\n\n")
            .Append("1. `appsettings.json` beside the executable (section `Actors`, keys as in the column *configuration key*);\n")
            .Append("2. a Kafka-style `server.properties` given with `--config <path>` (`key=value` lines, `#` comments);\n")
            .Append("3. environment variables: `ACTORS_` and the name in upper case with dots as underscores (`ACTORS_NUM_PARTITIONS=3`),\n")
            .Append("   or the configuration key with `__` for `:` (`ACTORS_BROKER__NUMPARTITIONS=3`, `Actors__Broker__NumPartitions=3`);\n")
            .Append("4. the command line: `--<name> <value>` or `--<name>=<value>` (`--num.partitions 3`), or the short flag where one is listed.\n\n")
            .Append("A value that is not accepted stops the silo (exit code 2) with one line naming the setting, the value and the accepted\n")
            .Append("values. An unknown key in server.properties or an unknown `ACTORS_` variable is logged as a warning and ignored; an\n")
            .Append("unknown flag stops the silo. Kafka keys Actors does not need (below) are logged with the reason and ignored.\n\n")
            .Append("| name (server.properties) | flag | configuration key | unit | default | accepted | description |\n")
            .Append("|---|---|---|---|---|---|---|\n");
        foreach (var s in All)
        {
            text.Append(CultureInfo.InvariantCulture,
                $"| `{s.Name}` | {(s.Flag is null ? "" : $"`{s.Flag}`")} | `{s.ConfigKey}` | {s.Unit} | {Cell(s.Default)} | {Cell(s.Accepted)} | {Cell(s.Description)} |\n");
        }

        text.Append("\nBesides these: `--config <path>` names the server.properties file; `Actors:Membership` in appsettings.json binds\n")
            .Append("Orleans' `ClusterMembershipOptions` (failure detection, deploy/README.md); `Logging` sets log levels.\n\n")
            .Append("The runtime: the silo runs the workstation garbage collector (concurrent), and its idle thread-pool workers block\n")
            .Append("at once rather than spinning for work (`System.Threading.ThreadPool.UnfairSemaphoreSpinLimit` 0 in its\n")
            .Append("runtimeconfig): on a small VM shared with other silos or clients, spinning cost a quarter of the silos' CPU at a\n")
            .Append("moderate steady load (3 silos, RF 3, 100,000 records/s). `DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=70` (.NET's\n")
            .Append("default) in the service's environment brings the spinning back.\n\n")
            .Append("## Kafka keys Actors does not need\n\n")
            .Append("| key | why it is ignored |\n|---|---|\n");
        foreach (var (key, why) in Explained)
        {
            text.Append(CultureInfo.InvariantCulture, $"| `{key}` | {Cell(why)} |\n");
        }

        return text.ToString();
    }

    private static string Cell(string value) => value.Replace("|", "\\|", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal);

    private static Setting Text(string name, string key, string defaultValue, string description, string? flag = null) =>
        new(name, key, "text", defaultValue, "any non-empty text", v => string.IsNullOrWhiteSpace(v) ? null : v.Trim(), description, flag);

    private static Setting Choice(string name, string key, string defaultValue, string description, params string[] choices) =>
        new(name, key, "choice", defaultValue, "one of " + string.Join(", ", choices),
            v => choices.FirstOrDefault(c => string.Equals(c, v.Trim(), StringComparison.OrdinalIgnoreCase)), description);

    private static Setting Bool(string name, string key, bool defaultValue, string description) =>
        new(name, key, "true/false", defaultValue ? "true" : "false", "true or false",
            v => bool.TryParse(v.Trim(), out var b) ? (b ? "true" : "false") : null, description);

    private static Setting Integer(string name, string key, string unit, int min, int max, int defaultValue, string description, string? flag = null) =>
        Integer(name, key, unit, min, max, defaultValue.ToString(CultureInfo.InvariantCulture), description, flag);

    private static Setting Integer(string name, string key, string unit, int min, int max, string defaultValue, string description, string? flag = null) =>
        new(name, key, unit, defaultValue, $"whole numbers from {min} to {max}", v => IntIn(v, min, max), description, flag);

    private static Setting Long(string name, string key, string unit, long min, long max, long defaultValue, string description) =>
        new(name, key, unit, defaultValue.ToString(CultureInfo.InvariantCulture), $"whole numbers from {min} to {max}",
            v => long.TryParse(v.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) && n >= min && n <= max
                ? n.ToString(CultureInfo.InvariantCulture)
                : null,
            description);

    private static Setting Scaled(string name, string key, string unit, long factor, int specificity, string description) =>
        new(name, key, unit, "(unset; log.retention.ms applies)", $"-1 (forever) or whole numbers from 1 to {long.MaxValue / factor}",
            v => long.TryParse(v.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) && (n == -1 || (n >= 1 && n <= long.MaxValue / factor))
                ? (n == -1 ? "-1" : (n * factor).ToString(CultureInfo.InvariantCulture))
                : null,
            description, Specificity: specificity);

    private static string? IntIn(string value, int min, int max) =>
        int.TryParse(value.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) && n >= min && n <= max
            ? n.ToString(CultureInfo.InvariantCulture)
            : null;

    private static string? SuperUsers(string value)
    {
        try
        {
            return AuthorizerSettings.Parse("check", value, false).SuperUsers.Count > 0 ? value.Trim() : null;
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    private static string? Listener(string value, bool allowEmptyHost)
    {
        try
        {
            var entries = ListenerAddress.ParseAll(value, "listener");
            return allowEmptyHost || entries.All(e => e.Host.Length > 0) ? value.Trim() : null;
        }
        catch (ArgumentException)
        {
            return null;
        }
    }
}
