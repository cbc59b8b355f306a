using System.Text;
using System.Text.Json;
using Actors.Integration.Tests.Kafka.Clients;
using Actors.Testing;
using Confluent.Kafka;
using Admin = Confluent.Kafka.Admin;
using KafkaError = Confluent.Kafka.ErrorCode;

namespace Actors.Integration.Tests.Kafka.Security;

/// <summary>ACLs on the SASL_SSL silo (authorizer on, closed by default, alice the super user), with Confluent.Kafka,
/// kcat, Debian's python client and kafkajs: what each principal may do, and that every refusal has Kafka's code.</summary>
public sealed partial class SaslSslClientTests
{
    [Fact]
    public async Task A_reader_of_one_topic_consumes_it_and_is_refused_another_topic_a_group_and_admin_calls()
    {
        var mine = await TopicAsync("acl-mine", 3);
        var other = await TopicAsync("acl-other", 3);
        var group = Cli("acl-readers");
        var reader = await UserAsync("reader");
        await AclsAsync(
            Allow(Admin.ResourceType.Topic, mine, Admin.AclOperation.Read, reader),
            Allow(Admin.ResourceType.Group, group, Admin.AclOperation.Read, reader));

        // Its topic, through its group: read and committed.
        using (var consumer = new ConsumerBuilder<string, string>(new ConsumerConfig(As(reader)) { GroupId = group, AutoOffsetReset = AutoOffsetReset.Earliest, EnableAutoCommit = false }).Build())
        {
            consumer.Subscribe(mine);
            var values = new List<string>();
            var deadline = DateTime.UtcNow + Deadline;
            while (values.Count < 3 && DateTime.UtcNow < deadline)
            {
                if (consumer.Consume(TimeSpan.FromSeconds(1)) is { Message: { } message } result)
                {
                    values.Add(message.Value);
                    consumer.Commit(result);
                }
            }

            Assert.Equal(["v0", "v1", "v2"], values);
        }

        // Another topic, through its group: TOPIC_AUTHORIZATION_FAILED.
        Assert.Equal(KafkaError.TopicAuthorizationFailed, ConsumeError(new ConsumerConfig(As(reader)) { GroupId = group }, c => c.Subscribe(other)));

        // Another group: GROUP_AUTHORIZATION_FAILED.
        Assert.Equal(KafkaError.GroupAuthorizationFailed, ConsumeError(new ConsumerConfig(As(reader)) { GroupId = Cli("acl-not-mine") }, c => c.Subscribe(mine)));

        // Metadata shows only what it may describe.
        using var admin = new AdminClientBuilder(As(reader)).Build();
        var topics = admin.GetMetadata(TimeSpan.FromSeconds(10)).Topics.Select(t => t.Topic).ToList();
        Assert.Contains(mine, topics);
        Assert.DoesNotContain(other, topics);

        // Every admin call.
        var create = await Assert.ThrowsAsync<Admin.CreateTopicsException>(() =>
            admin.CreateTopicsAsync([new Admin.TopicSpecification { Name = Cli("acl-new"), NumPartitions = 1, ReplicationFactor = 1 }]));
        Assert.Equal(KafkaError.TopicAuthorizationFailed, create.Results[0].Error.Code);
        var delete = await Assert.ThrowsAsync<Admin.DeleteTopicsException>(() => admin.DeleteTopicsAsync([mine]));
        Assert.Equal(KafkaError.TopicAuthorizationFailed, delete.Results[0].Error.Code);
        var acls = await Assert.ThrowsAsync<Admin.CreateAclsException>(() => admin.CreateAclsAsync([Allow(Admin.ResourceType.Topic, other, Admin.AclOperation.Read, reader)]));
        Assert.Equal(KafkaError.ClusterAuthorizationFailed, acls.Results[0].Error.Code);
        var removeAcls = await Assert.ThrowsAsync<Admin.DeleteAclsException>(() => admin.DeleteAclsAsync([new Admin.AclBindingFilter
        {
            PatternFilter = new Admin.ResourcePatternFilter { Type = Admin.ResourceType.Any, ResourcePatternType = Admin.ResourcePatternType.Any },
            EntryFilter = new Admin.AccessControlEntryFilter { Operation = Admin.AclOperation.Any, PermissionType = Admin.AclPermissionType.Any },
        }]));
        Assert.Equal(KafkaError.ClusterAuthorizationFailed, removeAcls.Results[0].Error.Code);
        var scram = await Assert.ThrowsAsync<Admin.AlterUserScramCredentialsException>(() => admin.AlterUserScramCredentialsAsync(
            [new Admin.UserScramCredentialDeletion { User = SaslSslSiloFixture.User, Mechanism = Admin.ScramMechanism.ScramSha256 }]));
        Assert.Equal(KafkaError.ClusterAuthorizationFailed, scram.Results[0].Error.Code);
        var configs = await Assert.ThrowsAsync<Admin.IncrementalAlterConfigsException>(() => admin.IncrementalAlterConfigsAsync(
            new Dictionary<Admin.ConfigResource, List<Admin.ConfigEntry>>
            {
                [new Admin.ConfigResource { Type = Admin.ResourceType.Topic, Name = mine }] = [new Admin.ConfigEntry { Name = "retention.ms", Value = "1000", IncrementalOperation = Admin.AlterConfigOpType.Set }],
            }));
        Assert.Equal(KafkaError.TopicAuthorizationFailed, configs.Results[0].Error.Code);

        // Each refusal is logged with who asked what.
        await Wait.UntilAsync(() => Task.FromResult(silo.Cluster.Silos[0].Logged($"Refused CREATE on TOPIC").Length > 0
                && silo.Cluster.Silos[0].Logged($"to User:{reader}").Length > 0),
            Deadline, "the silo to log the refused requests", () => silo.Cluster.Tails());
        Assert.Contains(silo.Cluster.Silos[0].Logged($"to User:{reader}"), l => l.Contains($"Refused DESCRIBE on TOPIC '{other}'", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Deny_beats_allow()
    {
        var topic = await TopicAsync("acl-deny", 2);
        var user = await UserAsync("denied-writer");
        var group = Cli("acl-deny-group");
        await AclsAsync(
            Allow(Admin.ResourceType.Group, group, Admin.AclOperation.Read, user),
            Allow(Admin.ResourceType.Topic, topic, Admin.AclOperation.All, user),
            new Admin.AclBinding
            {
                Pattern = new Admin.ResourcePattern { Type = Admin.ResourceType.Topic, Name = topic, ResourcePatternType = Admin.ResourcePatternType.Literal },
                Entry = Entry(user, Admin.AclOperation.Write, Admin.AclPermissionType.Deny),
            });

        using var producer = new ProducerBuilder<string, string>(new ProducerConfig(As(user)) { MessageTimeoutMs = 15_000 }).Build();
        var refused = await Assert.ThrowsAsync<ProduceException<string, string>>(() => producer.ProduceAsync(topic, new Message<string, string> { Key = "k", Value = "no" }));
        Assert.Equal(KafkaError.TopicAuthorizationFailed, refused.Error.Code);

        using var consumer = new ConsumerBuilder<string, string>(new ConsumerConfig(As(user)) { GroupId = group }).Build();
        consumer.Assign(new Confluent.Kafka.TopicPartitionOffset(topic, 0, Offset.Beginning));
        Assert.Equal(["v0", "v1"], ConsumeValues(consumer, 2));
    }

    [Fact]
    public async Task A_prefixed_acl_covers_every_topic_its_prefix_begins_and_lets_an_idempotent_producer_in()
    {
        var prefix = Cli("team") + "-";
        var ours = await TopicAsync(prefix + "orders", 0);
        var theirs = await TopicAsync(Cli("other") + "-orders", 0);
        var user = await UserAsync("team-writer");
        await AclsAsync(new Admin.AclBinding
        {
            Pattern = new Admin.ResourcePattern { Type = Admin.ResourceType.Topic, Name = prefix, ResourcePatternType = Admin.ResourcePatternType.Prefixed },
            Entry = Entry(user, Admin.AclOperation.Write, Admin.AclPermissionType.Allow),
        });

        var config = new ProducerConfig(As(user)) { EnableIdempotence = true, MessageTimeoutMs = 15_000 };
        using (var producer = new ProducerBuilder<string, string>(config).Build())
        {
            var delivered = await producer.ProduceAsync(ours, new Message<string, string> { Key = "k", Value = "ok" });
            Assert.Equal(PersistenceStatus.Persisted, delivered.Status);
        }

        using (var producer = new ProducerBuilder<string, string>(config).Build())
        {
            var refused = await Assert.ThrowsAsync<ProduceException<string, string>>(() => producer.ProduceAsync(theirs, new Message<string, string> { Key = "k", Value = "no" }));
            Assert.Equal(KafkaError.TopicAuthorizationFailed, refused.Error.Code);
        }
    }

    [Fact]
    public async Task The_super_user_needs_no_acl_for_topics_configs_or_acls()
    {
        using var admin = new AdminClientBuilder(silo.Config(SaslMechanism.ScramSha256)).Build();
        var topic = Cli("super");
        await admin.CreateTopicsAsync([new Admin.TopicSpecification { Name = topic, NumPartitions = 1, ReplicationFactor = 1 }]);
        await admin.IncrementalAlterConfigsAsync(new Dictionary<Admin.ConfigResource, List<Admin.ConfigEntry>>
        {
            [new Admin.ConfigResource { Type = Admin.ResourceType.Topic, Name = topic }] = [new Admin.ConfigEntry { Name = "retention.ms", Value = "60000", IncrementalOperation = Admin.AlterConfigOpType.Set }],
        });
        var acl = Allow(Admin.ResourceType.Topic, topic, Admin.AclOperation.Read, "nobody");
        await admin.CreateAclsAsync([acl]);
        var listed = await admin.DescribeAclsAsync(acl.ToFilter());
        Assert.Equal([acl], listed.AclBindings);
        var deleted = await admin.DeleteAclsAsync([acl.ToFilter()]);
        Assert.Equal([acl], deleted.Single().AclBindings);
        await admin.DeleteTopicsAsync([topic]);
    }

    [KcatFact]
    public async Task Kcat_reads_the_topic_its_user_may_read_and_is_told_topic_authorization_failed_for_another()
    {
        var mine = await TopicAsync("kcat-acl-mine", 2);
        var other = await TopicAsync("kcat-acl-other", 1);
        var reader = await UserAsync("kcat-reader");
        await AclsAsync(Allow(Admin.ResourceType.Topic, mine, Admin.AclOperation.Read, reader));
        string[] secure =
        [
            "-b", silo.Bootstrap, "-X", "security.protocol=SASL_SSL", "-X", "sasl.mechanisms=SCRAM-SHA-256",
            "-X", $"sasl.username={reader}", "-X", $"sasl.password={Password(reader)}", "-X", $"ssl.ca.location={silo.CaLocation}",
        ];

        var consumed = await ClientProcess.RunAsync(KcatFactAttribute.Path!, [.. secure, "-t", mine, "-C", "-o", "beginning", "-e", "-q"], Deadline);
        Assert.True(consumed.Exit == 0, $"kcat -C exited {consumed.Exit}: {consumed.Stderr}");
        Assert.Equal(["v0", "v1"], consumed.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));

        var listed = await ClientProcess.RunAsync(KcatFactAttribute.Path!, [.. secure, "-L", "-t", other, "-m", "10"], Deadline);
        Assert.Contains("Topic authorization failed", listed.Stdout + listed.Stderr, StringComparison.OrdinalIgnoreCase);
    }

    [PythonConfluentKafkaFact]
    public async Task Debians_python_client_sees_only_its_topic_and_is_refused_creating_one()
    {
        var mine = await TopicAsync("py-acl-mine", 0);
        var other = await TopicAsync("py-acl-other", 0);
        var user = await UserAsync("py-reader");
        await AclsAsync(Allow(Admin.ResourceType.Topic, mine, Admin.AclOperation.Describe, user));
        const string Script = """
            import json, sys
            from confluent_kafka.admin import AdminClient, NewTopic
            admin = AdminClient({"bootstrap.servers": sys.argv[1], "security.protocol": "SASL_SSL", "sasl.mechanisms": "SCRAM-SHA-256",
                                 "sasl.username": sys.argv[2], "sasl.password": sys.argv[3], "ssl.ca.location": sys.argv[4]})
            topics = sorted(admin.list_topics(timeout=20).topics.keys())
            try:
                admin.create_topics([NewTopic(sys.argv[5], 1, 1)])[sys.argv[5]].result(20)
                created = "created"
            except Exception as e:
                created = e.args[0].name()
            print(json.dumps({"topics": topics, "create": created}))
            """;
        var run = await ClientProcess.RunAsync(PythonConfluentKafkaFactAttribute.Python,
            ["-c", Script, silo.Bootstrap, user, Password(user), silo.CaLocation, Cli("py-new")], Deadline);

        Assert.True(run.Exit == 0, $"python exited {run.Exit}: {run.Stderr}");
        using var result = JsonDocument.Parse(run.Stdout.Trim().Split('\n')[^1]);
        var topics = result.RootElement.GetProperty("topics").EnumerateArray().Select(t => t.GetString()).ToList();
        Assert.Contains(mine, topics);
        Assert.DoesNotContain(other, topics);
        Assert.Equal("TOPIC_AUTHORIZATION_FAILED", result.RootElement.GetProperty("create").GetString());
    }

    [KafkaJsFact]
    public async Task Kafkajs_authenticates_with_scram_sha_256_over_tls_and_fails_cleanly_with_a_wrong_password()
    {
        var topic = await TopicAsync("kafkajs-sasl", 0);
        var script = Path.Combine(RepositoryRoot.Path, "tests", "Actors.Integration.Tests", "Kafka", "Clients", "node", "kafkajs-client.js");
        var modules = Path.Combine(RepositoryRoot.Path, "tools", "kafkajs", "node_modules");
        async Task<JsonDocument> RunAsync(string mode, string password)
        {
            var (exit, stdout, stderr) = await ClientProcess.RunAsync("node", [script, mode, silo.Bootstrap, topic, Cli("kafkajs-sasl")], Deadline,
                new Dictionary<string, string>
                {
                    ["KAFKAJS_MODULES"] = modules,
                    ["SASL_MECHANISM"] = "scram-sha-256",
                    ["SASL_USERNAME"] = SaslSslSiloFixture.User,
                    ["SASL_PASSWORD"] = password,
                    ["SSL_CA"] = silo.CaLocation,
                });
            Assert.True(exit == 0, $"kafkajs {mode} exited {exit}: {stderr}");
            return JsonDocument.Parse(stdout.Trim().Split('\n')[^1]);
        }

        using var good = await RunAsync("sasl-produce-consume", SaslSslSiloFixture.Password);
        Assert.Equal(Enumerable.Range(0, 5).Select(i => $"secret-{i}"), good.RootElement.GetProperty("received").EnumerateArray().Select(v => v.GetString()));

        using var bad = await RunAsync("sasl-connect", "wrong");
        Assert.Equal("KafkaJSSASLAuthenticationError", bad.RootElement.GetProperty("error").GetString());
    }

    private static string Cli(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 9)];

    private static string Password(string user) => $"{user}-secret";

    private ClientConfig As(string user) => silo.Config(SaslMechanism.ScramSha256, user, Password(user));

    /// <summary>A new SCRAM-SHA-256 user, created by the super user.</summary>
    private async Task<string> UserAsync(string prefix)
    {
        var user = Cli(prefix);
        using var admin = new AdminClientBuilder(silo.Config(SaslMechanism.ScramSha256)).Build();
        await admin.AlterUserScramCredentialsAsync(
        [
            new Admin.UserScramCredentialUpsertion
            {
                User = user,
                ScramCredentialInfo = new Admin.ScramCredentialInfo { Mechanism = Admin.ScramMechanism.ScramSha256, Iterations = 4096 },
                Password = Encoding.UTF8.GetBytes(Password(user)),
            },
        ]);
        return user;
    }

    /// <summary>A new one-partition topic with <paramref name="records"/> records v0, v1, ..., made by the super user.</summary>
    private async Task<string> TopicAsync(string prefix, int records)
    {
        var topic = Cli(prefix);
        using (var admin = new AdminClientBuilder(silo.Config(SaslMechanism.ScramSha256)).Build())
        {
            await admin.CreateTopicsAsync([new Admin.TopicSpecification { Name = topic, NumPartitions = 1, ReplicationFactor = 1 }]);
        }

        using var producer = new ProducerBuilder<string, string>(new ProducerConfig(silo.Config(SaslMechanism.ScramSha256)) { Acks = Acks.All }).Build();
        for (var i = 0; i < records; i++)
        {
            await producer.ProduceAsync(topic, new Message<string, string> { Key = "k", Value = $"v{i}" });
        }

        return topic;
    }

    private async Task AclsAsync(params Admin.AclBinding[] acls)
    {
        using var admin = new AdminClientBuilder(silo.Config(SaslMechanism.ScramSha256)).Build();
        await admin.CreateAclsAsync(acls);
    }

    private static Admin.AccessControlEntry Entry(string user, Admin.AclOperation operation, Admin.AclPermissionType permission) =>
        new() { Principal = $"User:{user}", Host = "*", Operation = operation, PermissionType = permission };

    private static Admin.AclBinding Allow(Admin.ResourceType type, string name, Admin.AclOperation operation, string user) => new()
    {
        Pattern = new Admin.ResourcePattern { Type = type, Name = name, ResourcePatternType = Admin.ResourcePatternType.Literal },
        Entry = Entry(user, operation, Admin.AclPermissionType.Allow),
    };

    private static List<string> ConsumeValues(IConsumer<string, string> consumer, int count)
    {
        var values = new List<string>();
        var deadline = DateTime.UtcNow + Deadline;
        while (values.Count < count && DateTime.UtcNow < deadline)
        {
            if (consumer.Consume(TimeSpan.FromSeconds(1)) is { Message: { } message })
            {
                values.Add(message.Value);
            }
        }

        return values;
    }

    /// <summary>The first error a consumer set up by <paramref name="start"/> meets, thrown by Consume or reported to
    /// its error handler; fails the test when none comes within the deadline.</summary>
    private static KafkaError ConsumeError(ConsumerConfig config, Action<IConsumer<string, string>> start)
    {
        var reported = new List<Error>();
        config.AutoOffsetReset = AutoOffsetReset.Earliest;
        using var consumer = new ConsumerBuilder<string, string>(config)
            .SetErrorHandler((_, e) =>
            {
                lock (reported)
                {
                    reported.Add(e);
                }
            })
            .Build();
        start(consumer);
        var deadline = DateTime.UtcNow + Deadline;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                consumer.Consume(TimeSpan.FromSeconds(1));
            }
            catch (ConsumeException e) when (e.Error.Code is KafkaError.TopicAuthorizationFailed or KafkaError.GroupAuthorizationFailed)
            {
                return e.Error.Code;
            }

            lock (reported)
            {
                if (reported.FirstOrDefault(e => e.Code is KafkaError.TopicAuthorizationFailed or KafkaError.GroupAuthorizationFailed) is { } error)
                {
                    return error.Code;
                }
            }
        }

        Assert.Fail($"No authorization error within {Deadline.TotalSeconds} s; errors reported: {string.Join("; ", reported.Select(e => e.Reason))}");
        return KafkaError.NoError;
    }
}
