namespace Actors.Cli.Tests;

[Collection(SiloCollection.Name)]
public sealed class UserScramTests(SiloFixture silo)
{
    [Fact]
    public async Task Scram_users_are_added_described_and_deleted_with_kafka_configs_flags()
    {
        var user = Cli.Unique("alice");
        var added = await Cli.RunAsync(["user-scram", "--bootstrap-server", silo.Bootstrap, "--alter", "--entity-type", "users", "--entity-name", user,
            "--add-config", "SCRAM-SHA-256=[iterations=8192,password=alice-secret],SCRAM-SHA-512=[password=alice-secret]"]);
        Assert.True(added.Exit == 0, added.ToString());
        Assert.Equal($"Completed updating config for user {user}.\n", added.Out);

        var described = await Cli.RunAsync(["user-scram", "--bootstrap-server", silo.Bootstrap, "--describe", "--entity-name", user]);
        Assert.True(described.Exit == 0, described.ToString());
        Assert.Equal($"SCRAM credential configs for user-principal '{user}' are SCRAM-SHA-256-ITERATIONS=8192, SCRAM-SHA-512-ITERATIONS=4096\n", described.Out);

        var deleted = await Cli.RunAsync(["user-scram", "--bootstrap-server", silo.Bootstrap, "--alter", "--entity-name", user, "--delete-config", "SCRAM-SHA-512"]);
        Assert.True(deleted.Exit == 0, deleted.ToString());
        var after = await Cli.RunAsync(["user-scram", "--bootstrap-server", silo.Bootstrap, "--describe", "--entity-name", user]);
        Assert.Equal($"SCRAM credential configs for user-principal '{user}' are SCRAM-SHA-256-ITERATIONS=8192\n", after.Out);
    }

    [Theory]
    [InlineData("SCRAM-SHA-256=[iterations=8192]", "needs password=<password>")]
    [InlineData("SCRAM-SHA-1=[password=x]", "Unknown SCRAM mechanism 'SCRAM-SHA-1'")]
    [InlineData("password=x", "is not of the form")]
    public async Task A_bad_add_config_is_one_line_saying_the_form(string addConfig, string problem)
    {
        var run = await Cli.RunAsync(["user-scram", "--bootstrap-server", silo.Bootstrap, "--alter", "--entity-name", "bob", "--add-config", addConfig]);

        Assert.Equal(2, run.Exit);
        Assert.Contains(problem, run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Too_few_iterations_are_refused_by_the_cluster_naming_the_bound()
    {
        var run = await Cli.RunAsync(["user-scram", "--bootstrap-server", silo.Bootstrap, "--alter", "--entity-name", Cli.Unique("carol"),
            "--add-config", "SCRAM-SHA-256=[iterations=100,password=x]"]);

        Assert.Equal(1, run.Exit);
        Assert.Contains("must be between 4096 and 16384", run.Error, StringComparison.Ordinal);
    }
}
