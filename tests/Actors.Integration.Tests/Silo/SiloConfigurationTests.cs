using System.Collections;
using Actors.Silo.Configuration;
using Actors.Testing;
using Microsoft.Extensions.Configuration;

namespace Actors.Integration.Tests.Silo;

/// <summary>The silo's settings sources (SiloConfigurationSources over SettingsCatalog): precedence appsettings.json
/// &lt; server.properties &lt; environment &lt; command line, one error line per bad value naming the key, the value and
/// the accepted values, warnings for unknown keys, and Kafka keys Actors does not need explained.</summary>
public sealed class SiloConfigurationTests : IDisposable
{
    private readonly TempDirectory folder = new("silo-config");

    public void Dispose() => folder.Dispose();

    [Fact]
    public void The_command_line_beats_the_environment_which_beats_the_file_which_beats_appsettings()
    {
        var file = Properties("num.partitions=2\nmin.insync.replicas=2\nlog.segment.bytes=1048576\nbroker.id=from-file\n");
        var environment = new Hashtable { ["ACTORS_NUM_PARTITIONS"] = "3", ["ACTORS_MIN_INSYNC_REPLICAS"] = "3" };
        var configuration = Effective(
            new Dictionary<string, string?> { ["Actors:Broker:NumPartitions"] = "1", ["Actors:Broker:MessageMaxBytes"] = "2000", ["Actors:Broker:LogSegmentBytes"] = "999999" },
            ["--config", file, "--num.partitions", "4"],
            environment);

        Assert.Equal("4", configuration["Actors:Broker:NumPartitions"]); // flag over environment and file
        Assert.Equal("3", configuration["Actors:Broker:MinInsyncReplicas"]); // environment over file
        Assert.Equal("1048576", configuration["Actors:Broker:LogSegmentBytes"]); // file over appsettings
        Assert.Equal("2000", configuration["Actors:Broker:MessageMaxBytes"]); // appsettings where nothing else says
        Assert.Equal("from-file", configuration["Actors:Silo:Name"]); // broker.id names the silo
    }

    [Fact]
    public void Configuration_keys_in_the_environment_beat_the_file_too()
    {
        var file = Properties("broker.id=from-file\ncluster.id=file-cluster\n");
        var configuration = Effective([], ["--config", file], new Hashtable { ["Actors__Silo__Name"] = "from-env", ["ACTORS_SILO__CLUSTERID"] = "env-cluster" });
        Assert.Equal("from-env", configuration["Actors:Silo:Name"]);
        Assert.Equal("env-cluster", configuration["Actors:Silo:ClusterId"]);
    }

    [Fact]
    public void Kafka_listener_and_log_names_reach_the_broker_and_listener_keys()
    {
        var file = Properties(
            "listeners=PLAINTEXT://0.0.0.0:19092\nadvertised.listeners=PLAINTEXT://10.0.0.4:19092\nlog.dirs=/var/lib/actors/logs\n" +
            "log.retention.check.interval.ms=1000\nlog.retention.bytes=1073741824\ndefault.replication.factor=3\n" +
            "auto.create.topics.enable=false\nmessage.max.bytes=2097152\nunclean.leader.election.enable=true\nhttp.port=none\n");
        var configuration = Effective([], ["--config", file], []);
        Assert.Equal("PLAINTEXT://0.0.0.0:19092", configuration["Actors:Kafka:Listeners"]);
        Assert.Equal("PLAINTEXT://10.0.0.4:19092", configuration["Actors:Kafka:AdvertisedListeners"]);
        Assert.Equal("/var/lib/actors/logs", configuration["Actors:Broker:LogDirs"]);
        Assert.Equal("1000", configuration["Actors:Broker:LogRetentionCheckIntervalMs"]);
        Assert.Equal("1073741824", configuration["Actors:Broker:LogRetentionBytes"]);
        Assert.Equal("3", configuration["Actors:Broker:DefaultReplicationFactor"]);
        Assert.Equal("false", configuration["Actors:Broker:AutoCreateTopicsEnable"]);
        Assert.Equal("2097152", configuration["Actors:Broker:MessageMaxBytes"]);
        Assert.Equal("true", configuration["Actors:Broker:UncleanLeaderElectionEnable"]);
        Assert.Equal("0", configuration["Actors:Http:Port"]);
    }

    [Theory]
    [InlineData("log.retention.hours=2\n", null, "7200000")]
    [InlineData("log.retention.minutes=3\n", null, "180000")]
    [InlineData("log.retention.ms=5000\nlog.retention.hours=2\n", null, "5000")] // ms wins within one source, whatever the order
    [InlineData("log.retention.minutes=1\nlog.retention.hours=2\n", null, "60000")]
    [InlineData("log.retention.ms=5000\n", "1", "3600000")] // a later source wins even with the coarser unit
    [InlineData("log.retention.hours=-1\n", null, "-1")]
    public void Retention_in_hours_and_minutes_becomes_milliseconds(string file, string? environmentHours, string expectedMs)
    {
        var environment = environmentHours is null ? new Hashtable() : new Hashtable { ["ACTORS_LOG_RETENTION_HOURS"] = environmentHours };
        Assert.Equal(expectedMs, Effective([], ["--config", Properties(file)], environment)["Actors:Broker:LogRetentionMs"]);
    }

    [Fact]
    public void Zookeeper_connect_is_explained_and_unknown_keys_are_warned_about_by_name()
    {
        var file = Properties("# a Kafka 2.x file\nzookeeper.connect=localhost:2181\nnum.network.threads=3\nlog.flush.interval.messages=10000\nnum.partitions=3\n");
        var sources = SiloConfigurationSources.Read(["--config", file], new Hashtable { ["ACTORS_NUM_PARTITONS"] = "3" });

        var zookeeper = Assert.Single(sources.Notes, n => n.StartsWith("zookeeper.connect", StringComparison.Ordinal));
        Assert.Contains("not needed: membership is Orleans cluster membership", zookeeper, StringComparison.Ordinal);
        Assert.Contains($"{file} line 2", zookeeper, StringComparison.Ordinal);
        Assert.Contains(sources.Notes, n => n.StartsWith("num.network.threads", StringComparison.Ordinal));
        Assert.Contains(sources.Warnings, w => w.Contains("Unknown key 'log.flush.interval.messages'", StringComparison.Ordinal) && w.Contains("line 4", StringComparison.Ordinal));
        Assert.Contains(sources.Warnings, w => w.Contains("Unknown environment variable ACTORS_NUM_PARTITONS", StringComparison.Ordinal));
        Assert.Equal("3", sources.Values["Actors:Broker:NumPartitions"]);
    }

    [Fact]
    public void Properties_syntax_comments_separators_continuations_and_escapes()
    {
        var parsed = SiloConfigurationSources.ParseProperties("# c\n! c\n  a = 1\nb:2\nc 3\nd=x\\\n   y\ne=C:\\\\data\\u0041\n\nf=\n").ToList();
        Assert.Equal(
            [(3, "a", "1"), (4, "b", "2"), (5, "c", "3"), (6, "d", "xy"), (8, "e", "C:\\dataA"), (10, "f", "")],
            parsed);
    }

    public static TheoryData<string, string[], string, string, string> Errors() => new()
    {
        // where, flags, file content, environment (NAME=value), expected message
        { "file", [], "num.partitions=abc\n", "", "Invalid value 'abc' for num.partitions ({file} line 1): accepted values are whole numbers from 1 to 10000." },
        { "file", [], "\nnum.partitions=0\n", "", "Invalid value '0' for num.partitions ({file} line 2): accepted values are whole numbers from 1 to 10000." },
        { "file", [], "auto.create.topics.enable=yes\n", "", "Invalid value 'yes' for auto.create.topics.enable ({file} line 1): accepted values are true or false." },
        { "file", [], "unclean.leader.election.enable=1\n", "", "Invalid value '1' for unclean.leader.election.enable ({file} line 1): accepted values are true or false." },
        { "file", [], "listeners=0.0.0.0:9092\n", "", "Invalid value '0.0.0.0:9092' for listeners ({file} line 1): accepted values are NAME://<ip or empty>:<port>, e.g. PLAINTEXT://0.0.0.0:9092 or SASL_SSL://:9093." },
        { "file", [], "advertised.listeners=PLAINTEXT://:9092\n", "", "Invalid value 'PLAINTEXT://:9092' for advertised.listeners ({file} line 1): accepted values are NAME://<host>:<port>, e.g. PLAINTEXT://10.0.0.4:9092." },
        { "file", [], "log.segment.bytes=10\n", "", "Invalid value '10' for log.segment.bytes ({file} line 1): accepted values are whole numbers from 14 to 2147483647." },
        { "file", [], "log.retention.ms=-2\n", "", "Invalid value '-2' for log.retention.ms ({file} line 1): accepted values are whole numbers from -1 to 9223372036854775807." },
        { "file", [], "log.retention.hours=0\n", "", "Invalid value '0' for log.retention.hours ({file} line 1): accepted values are -1 (forever) or whole numbers from 1 to 2562047788015." },
        { "file", [], "log.retention.minutes=x\n", "", "Invalid value 'x' for log.retention.minutes ({file} line 1): accepted values are -1 (forever) or whole numbers from 1 to 153722867280912." },
        { "file", [], "log.retention.bytes=-5\n", "", "Invalid value '-5' for log.retention.bytes ({file} line 1): accepted values are whole numbers from -1 to 9223372036854775807." },
        { "file", [], "log.retention.check.interval.ms=0\n", "", "Invalid value '0' for log.retention.check.interval.ms ({file} line 1): accepted values are whole numbers from 1 to 9223372036854775807." },
        { "file", [], "default.replication.factor=0\n", "", "Invalid value '0' for default.replication.factor ({file} line 1): accepted values are whole numbers from 1 to 32767." },
        { "file", [], "min.insync.replicas=0\n", "", "Invalid value '0' for min.insync.replicas ({file} line 1): accepted values are whole numbers from 1 to 32767." },
        { "file", [], "message.max.bytes=-1\n", "", "Invalid value '-1' for message.max.bytes ({file} line 1): accepted values are whole numbers from 0 to 2147483647." },
        { "file", [], "log.dirs=\n", "", "Invalid value '' for log.dirs ({file} line 1): accepted values are any non-empty text." },
        { "file", [], "broker.id=\n", "", "Invalid value '' for broker.id ({file} line 1): accepted values are any non-empty text." },
        { "file", [], "clustering.provider=Zookeeper\n", "", "Invalid value 'Zookeeper' for clustering.provider ({file} line 1): accepted values are one of Sqlite, AzureTable." },
        { "file", [], "grain.storage.provider=Redis\n", "", "Invalid value 'Redis' for grain.storage.provider ({file} line 1): accepted values are one of Sqlite, AzureBlob." },
        { "environment", [], "", "ACTORS_SILO_PORT=70000", "Invalid value '70000' for silo.port (environment variable ACTORS_SILO_PORT): accepted values are whole numbers from 1 to 65535." },
        { "environment", [], "", "ACTORS_HTTP_PORT=web", "Invalid value 'web' for http.port (environment variable ACTORS_HTTP_PORT): accepted values are a port from 1 to 65535, or 0 or none to serve no HTTP." },
        { "flag", ["--port", "abc"], "", "", "Invalid value 'abc' for silo.port (--port on the command line): accepted values are whole numbers from 1 to 65535." },
        { "flag", ["--gateway-port=-1"], "", "", "Invalid value '-1' for gateway.port (--gateway-port on the command line): accepted values are whole numbers from 0 to 65535." },
        { "flag", ["--kafka-port", "x"], "", "", "Invalid value 'x' for kafka.port (--kafka-port on the command line): accepted values are whole numbers from 0 to 65535." },
        { "flag", ["--log-format", "xml"], "", "", "Invalid value 'xml' for log.format (--log-format on the command line): accepted values are one of simple, json." },
        { "flag", ["--bogus", "1"], "", "", "Unknown flag '--bogus'. Settings are --<name> <value> with a name from docs/configuration.md (see --help)." },
        { "flag", ["--num.partitions"], "", "", "The flag --num.partitions needs a value: whole numbers from 1 to 10000." },
        { "flag", ["--config"], "", "", "The flag --config needs a value (the path of a server.properties file)." },
    };

    [Theory]
    [MemberData(nameof(Errors))]
    public void Each_bad_value_gives_one_line_naming_the_key_the_value_and_the_accepted_values(string where, string[] flags, string file, string environment, string expected)
    {
        var path = Properties(file);
        var env = new Hashtable();
        if (environment.Length > 0)
        {
            env[environment[..environment.IndexOf('=', StringComparison.Ordinal)]] = environment[(environment.IndexOf('=', StringComparison.Ordinal) + 1)..];
        }

        string[] args = where == "file" ? ["--config", path, .. flags] : flags;
        var error = Assert.Throws<ArgumentException>(() => SiloConfigurationSources.Read(args, env));
        Assert.Equal(expected.Replace("{file}", path, StringComparison.Ordinal), error.Message);
    }

    [Fact]
    public void A_missing_config_file_is_named()
    {
        var missing = folder.File("nope.properties");
        var error = Assert.Throws<ArgumentException>(() => SiloConfigurationSources.Read(["--config", missing], new Hashtable()));
        Assert.StartsWith($"--config: cannot read the server.properties file '{missing}' (", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_bad_value_in_appsettings_is_named_by_its_configuration_key()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Actors:Broker:NumPartitions"] = "many" }).Build();
        var error = Assert.Throws<ArgumentException>(() => SiloConfigurationSources.CheckEffective(configuration));
        Assert.Equal("Invalid value 'many' for num.partitions (configuration key Actors:Broker:NumPartitions, from appsettings.json or the environment): accepted values are whole numbers from 1 to 10000.", error.Message);
    }

    [Fact]
    public void Docs_configuration_md_is_what_the_catalog_writes()
    {
        var docs = File.ReadAllText(Path.Combine(RepositoryRoot.Path, "docs", "configuration.md"));
        Assert.True(docs == SettingsCatalog.Markdown(),
            "docs/configuration.md differs from SettingsCatalog; regenerate it: dotnet silo/Actors.Silo/bin/Release/net10.0/Actors.Silo.dll --settings-markdown > docs/configuration.md");
        foreach (var setting in SettingsCatalog.All)
        {
            Assert.Contains($"| `{setting.Name}` |", docs, StringComparison.Ordinal);
        }

        Assert.Contains("`zookeeper.connect`", docs, StringComparison.Ordinal);
    }

    private string Properties(string content)
    {
        var path = folder.File($"server-{Guid.NewGuid():N}.properties");
        File.WriteAllText(path, content);
        return path;
    }

    private static IConfiguration Effective(Dictionary<string, string?> appsettings, string[] args, Hashtable environment)
    {
        var sources = SiloConfigurationSources.Read(args, environment);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(appsettings).AddInMemoryCollection(sources.Values).Build();
        SiloConfigurationSources.CheckEffective(configuration);
        return configuration;
    }
}
