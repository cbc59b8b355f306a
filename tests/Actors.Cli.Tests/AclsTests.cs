using Confluent.Kafka;
using ErrorCode = Confluent.Kafka.ErrorCode;

namespace Actors.Cli.Tests;

/// <summary><c>actors acls</c> with kafka-acls.sh's flags against the silo's authorizer (open where no ACL applies):
/// ACLs added, listed and removed, and what they do to the CLI's own principal, User:ANONYMOUS.</summary>
[Collection(SiloCollection.Name)]
public sealed class AclsTests(SiloFixture silo)
{
    [Fact]
    public async Task Acls_are_added_listed_and_removed_and_close_then_reopen_a_topic()
    {
        var topic = Cli.Unique("acl-topic");
        Assert.Equal(0, (await Cli.RunAsync(["topics", "--bootstrap-server", silo.Bootstrap, "--create", "--topic", topic, "--partitions", "1"])).Exit);
        Assert.Equal(ErrorCode.NoError, await ProduceAsync(topic));

        var added = await Cli.RunAsync(["acls", "--bootstrap-server", silo.Bootstrap, "--add", "--allow-principal", "User:bob",
            "--operation", "Read", "--operation", "Describe", "--topic", topic]);
        Assert.True(added.Exit == 0, added.ToString());
        Assert.Contains($"Adding ACLs for resource `ResourcePattern(resourceType=TOPIC, name={topic}, patternType=LITERAL)`: ", added.OutLines);
        Assert.Contains(" \t(principal=User:bob, host=*, operation=READ, permissionType=ALLOW) ", added.OutLines);

        var listed = await Cli.RunAsync(["acls", "--bootstrap-server", silo.Bootstrap, "--list", "--topic", topic]);
        Assert.True(listed.Exit == 0, listed.ToString());
        Assert.Equal(
        [
            $"Current ACLs for resource `ResourcePattern(resourceType=TOPIC, name={topic}, patternType=LITERAL)`: ",
            " \t(principal=User:bob, host=*, operation=READ, permissionType=ALLOW) ",
            " \t(principal=User:bob, host=*, operation=DESCRIBE, permissionType=ALLOW) ",
        ], listed.OutLines);

        // The topic now has ACLs, none for ANONYMOUS: it is closed to the CLI's principal.
        Assert.Equal(ErrorCode.TopicAuthorizationFailed, await ProduceAsync(topic));

        var removed = await Cli.RunAsync(["acls", "--bootstrap-server", silo.Bootstrap, "--remove", "--allow-principal", "User:bob",
            "--operation", "Read", "--operation", "Describe", "--topic", topic, "--force"]);
        Assert.True(removed.Exit == 0, removed.ToString());
        var after = await Cli.RunAsync(["acls", "--bootstrap-server", silo.Bootstrap, "--list", "--topic", topic]);
        Assert.Equal("", after.Out);
        Assert.Equal(ErrorCode.NoError, await ProduceAsync(topic));
    }

    [Fact]
    public async Task Prefixed_group_acls_and_deny_principals_are_listed_by_any_pattern_and_removed_after_a_yes()
    {
        var prefix = Cli.Unique("team") + "-";
        var added = await Cli.RunAsync(["acls", "--bootstrap-server", silo.Bootstrap, "--add", "--deny-principal", "User:mallory",
            "--operation", "All", "--group", prefix, "--resource-pattern-type", "prefixed"]);
        Assert.True(added.Exit == 0, added.ToString());

        var listed = await Cli.RunAsync(["acls", "--bootstrap-server", silo.Bootstrap, "--list", "--group", prefix, "--resource-pattern-type", "any"]);
        Assert.Equal(
        [
            $"Current ACLs for resource `ResourcePattern(resourceType=GROUP, name={prefix}, patternType=PREFIXED)`: ",
            " \t(principal=User:mallory, host=*, operation=ALL, permissionType=DENY) ",
        ], listed.OutLines);

        var byPrincipal = await Cli.RunAsync(["acls", "--bootstrap-server", silo.Bootstrap, "--list", "--principal", "User:mallory"]);
        Assert.Contains(" \t(principal=User:mallory, host=*, operation=ALL, permissionType=DENY) ", byPrincipal.OutLines);

        var declined = await Cli.RunAsync(["acls", "--bootstrap-server", silo.Bootstrap, "--remove", "--deny-principal", "User:mallory",
            "--group", prefix, "--resource-pattern-type", "prefixed"], stdin: "n\n");
        Assert.Equal(0, declined.Exit);
        Assert.NotEmpty((await Cli.RunAsync(["acls", "--bootstrap-server", silo.Bootstrap, "--list", "--group", prefix, "--resource-pattern-type", "prefixed"])).OutLines);

        var removed = await Cli.RunAsync(["acls", "--bootstrap-server", silo.Bootstrap, "--remove", "--deny-principal", "User:mallory",
            "--group", prefix, "--resource-pattern-type", "prefixed"], stdin: "y\n");
        Assert.True(removed.Exit == 0, removed.ToString());
        Assert.Empty((await Cli.RunAsync(["acls", "--bootstrap-server", silo.Bootstrap, "--list", "--group", prefix, "--resource-pattern-type", "prefixed"])).OutLines);
    }

    [Theory]
    [InlineData(new[] { "--add", "--allow-principal", "User:bob", "--operation", "Fly", "--topic", "t" }, "--operation 'Fly' is not one of")]
    [InlineData(new[] { "--add", "--allow-principal", "bob", "--topic", "t" }, "--allow-principal 'bob' is not a principal")]
    [InlineData(new[] { "--add", "--allow-principal", "User:bob" }, "--add needs a resource")]
    [InlineData(new[] { "--add", "--topic", "t" }, "--add needs --allow-principal or --deny-principal")]
    [InlineData(new[] { "--add", "--allow-principal", "User:bob", "--topic", "t", "--resource-pattern-type", "match" }, "is not literal or prefixed")]
    [InlineData(new[] { "--list", "--add" }, "Pass only one of")]
    public async Task Bad_flags_are_one_line_naming_the_flag(string[] flags, string problem)
    {
        var run = await Cli.RunAsync(["acls", "--bootstrap-server", silo.Bootstrap, .. flags]);

        Assert.Equal(2, run.Exit);
        Assert.Contains(problem, run.Error, StringComparison.Ordinal);
    }

    private async Task<ErrorCode> ProduceAsync(string topic)
    {
        using var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = silo.Bootstrap, MessageTimeoutMs = 15_000 }).Build();
        try
        {
            await producer.ProduceAsync(topic, new Message<string, string> { Key = "k", Value = "v" });
            return ErrorCode.NoError;
        }
        catch (ProduceException<string, string> e)
        {
            return e.Error.Code;
        }
    }
}
