using Actors.Broker;
using Actors.Kafka.Security;
using Microsoft.Extensions.Logging.Abstractions;

namespace Actors.Kafka.Tests.Security;

/// <summary>The authorizer's decisions, as Kafka's standard authorizer makes them, from one set of ACLs.</summary>
public sealed class AclAuthorizerTests
{
    private const string Alice = "User:alice";
    private const string Bob = "User:bob";
    private const string Host = "10.0.0.7";

    private static AclBinding Acl(AclResourceType type, string name, AclPatternType pattern, string principal, AclOperation operation,
        AclPermissionType permission = AclPermissionType.Allow, string host = "*") =>
        new(type, name, pattern, principal, host, operation, permission);

    private static (AclAuthorizer Authorizer, AclView View) With(AuthorizerSettings settings, params AclBinding[] acls)
    {
        var snapshot = new AclSnapshot(1, acls);
        return (new AclAuthorizer(settings, _ => Task.FromResult<AclSnapshot?>(snapshot), TimeProvider.System, NullLogger.Instance), new AclView(snapshot));
    }

    private static readonly AuthorizerSettings On = AuthorizerSettings.Parse("acl", "User:admin", allowEveryoneIfNoAclFound: false);

    [Fact]
    public void A_literal_allow_grants_its_operation_and_describe_and_nothing_else()
    {
        var (authorizer, view) = With(On, Acl(AclResourceType.Topic, "orders", AclPatternType.Literal, Alice, AclOperation.Read));

        Assert.True(authorizer.Allows(view, Alice, Host, AclOperation.Read, AclResourceType.Topic, "orders"));
        Assert.True(authorizer.Allows(view, Alice, Host, AclOperation.Describe, AclResourceType.Topic, "orders"));
        Assert.False(authorizer.Allows(view, Alice, Host, AclOperation.Write, AclResourceType.Topic, "orders"));
        Assert.False(authorizer.Allows(view, Alice, Host, AclOperation.Read, AclResourceType.Topic, "orders-2"));
        Assert.False(authorizer.Allows(view, Bob, Host, AclOperation.Read, AclResourceType.Topic, "orders"));
        Assert.False(authorizer.Allows(view, Alice, Host, AclOperation.Read, AclResourceType.Group, "orders"));
    }

    [Fact]
    public void Deny_beats_allow_whatever_the_pattern_that_carries_it()
    {
        var (authorizer, view) = With(On,
            Acl(AclResourceType.Topic, "*", AclPatternType.Literal, Acls.WildcardPrincipal, AclOperation.All),
            Acl(AclResourceType.Topic, "secret-", AclPatternType.Prefixed, Bob, AclOperation.Read, AclPermissionType.Deny));

        Assert.True(authorizer.Allows(view, Bob, Host, AclOperation.Read, AclResourceType.Topic, "public"));
        Assert.False(authorizer.Allows(view, Bob, Host, AclOperation.Read, AclResourceType.Topic, "secret-plans"));
        Assert.True(authorizer.Allows(view, Bob, Host, AclOperation.Write, AclResourceType.Topic, "secret-plans"));
        Assert.True(authorizer.Allows(view, Alice, Host, AclOperation.Read, AclResourceType.Topic, "secret-plans"));
    }

    [Fact]
    public void A_deny_of_all_refuses_every_operation_and_a_host_limits_an_acl()
    {
        var (authorizer, view) = With(On,
            Acl(AclResourceType.Group, "g", AclPatternType.Literal, Alice, AclOperation.All),
            Acl(AclResourceType.Group, "g", AclPatternType.Literal, Alice, AclOperation.All, AclPermissionType.Deny, host: "10.0.0.66"));

        Assert.True(authorizer.Allows(view, Alice, Host, AclOperation.Read, AclResourceType.Group, "g"));
        Assert.False(authorizer.Allows(view, Alice, "10.0.0.66", AclOperation.Read, AclResourceType.Group, "g"));
        Assert.False(authorizer.Allows(view, Alice, "10.0.0.66", AclOperation.Describe, AclResourceType.Group, "g"));
    }

    [Fact]
    public void A_prefixed_acl_covers_every_name_it_begins()
    {
        var (authorizer, view) = With(On, Acl(AclResourceType.Topic, "team-a-", AclPatternType.Prefixed, Alice, AclOperation.Write));

        Assert.True(authorizer.Allows(view, Alice, Host, AclOperation.Write, AclResourceType.Topic, "team-a-orders"));
        Assert.True(authorizer.Allows(view, Alice, Host, AclOperation.Write, AclResourceType.Topic, "team-a-"));
        Assert.False(authorizer.Allows(view, Alice, Host, AclOperation.Write, AclResourceType.Topic, "team-b-orders"));
        Assert.False(authorizer.Allows(view, Alice, Host, AclOperation.Write, AclResourceType.Topic, "team-a"));
        Assert.True(authorizer.AllowsAny(view, Alice, Host, AclOperation.Write, AclResourceType.Topic));
        Assert.False(authorizer.AllowsAny(view, Bob, Host, AclOperation.Write, AclResourceType.Topic));
    }

    [Fact]
    public void A_super_user_is_allowed_everything_even_what_an_acl_denies()
    {
        var (authorizer, view) = With(On, Acl(AclResourceType.Cluster, Acls.ClusterResourceName, AclPatternType.Literal, "User:admin", AclOperation.All, AclPermissionType.Deny));

        Assert.True(authorizer.Allows(view, "User:admin", Host, AclOperation.Alter, AclResourceType.Cluster, Acls.ClusterResourceName));
        Assert.False(authorizer.Allows(view, Alice, Host, AclOperation.Alter, AclResourceType.Cluster, Acls.ClusterResourceName));
    }

    [Fact]
    public void Allow_everyone_if_no_acl_found_opens_only_resources_no_acl_names()
    {
        var open = AuthorizerSettings.Parse("acl", null, allowEveryoneIfNoAclFound: true);
        var (authorizer, view) = With(open, Acl(AclResourceType.Topic, "owned", AclPatternType.Literal, Alice, AclOperation.Read));

        Assert.True(authorizer.Allows(view, Bob, Host, AclOperation.Write, AclResourceType.Topic, "anything"));
        Assert.False(authorizer.Allows(view, Bob, Host, AclOperation.Read, AclResourceType.Topic, "owned"));
        Assert.True(authorizer.Allows(view, Alice, Host, AclOperation.Read, AclResourceType.Topic, "owned"));

        var (closed, closedView) = With(On);
        Assert.False(closed.Allows(closedView, Bob, Host, AclOperation.Write, AclResourceType.Topic, "anything"));
    }

    [Fact]
    public void Alter_configs_implies_describe_configs_but_not_the_reverse()
    {
        var (authorizer, view) = With(On, Acl(AclResourceType.Topic, "t", AclPatternType.Literal, Alice, AclOperation.AlterConfigs));

        Assert.True(authorizer.Allows(view, Alice, Host, AclOperation.DescribeConfigs, AclResourceType.Topic, "t"));
        Assert.False(authorizer.Allows(view, Alice, Host, AclOperation.Describe, AclResourceType.Topic, "t"));
    }

    [Theory]
    [InlineData("User:admin;User:bob", 2)]
    [InlineData(" User:admin ; ", 1)]
    [InlineData("", 0)]
    public void Super_users_are_read_as_kafka_writes_them(string value, int count) =>
        Assert.Equal(count, AuthorizerSettings.Parse("acl", value, false).SuperUsers.Count);

    [Theory]
    [InlineData("admin")]
    [InlineData("User:")]
    [InlineData("User:admin,User:bob")]
    public void A_malformed_super_user_is_refused_naming_the_setting(string value)
    {
        var error = Assert.Throws<ArgumentException>(() => AuthorizerSettings.Parse("acl", value, false));
        Assert.Contains("super.users", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Filters_select_as_kafkas_do_match_any_and_exact()
    {
        var literal = Acl(AclResourceType.Topic, "orders", AclPatternType.Literal, Alice, AclOperation.Read);
        var wildcard = Acl(AclResourceType.Topic, "*", AclPatternType.Literal, Bob, AclOperation.Write);
        var prefix = Acl(AclResourceType.Topic, "ord", AclPatternType.Prefixed, Bob, AclOperation.Read);
        var group = Acl(AclResourceType.Group, "orders", AclPatternType.Literal, Alice, AclOperation.Read);
        AclBinding[] all = [literal, wildcard, prefix, group];

        AclBinding[] Select(AclBindingFilter f) => all.Where(a => Acls.Matches(f, a)).ToArray();

        Assert.Equal(all, Select(AclBindingFilter.Any));
        Assert.Equal([literal, wildcard, prefix], Select(AclBindingFilter.Any with { ResourceType = AclResourceType.Topic, ResourceName = "orders", PatternType = AclPatternType.Match }));
        Assert.Equal([literal, group], Select(AclBindingFilter.Any with { ResourceName = "orders" }));
        Assert.Equal([literal], Select(AclBindingFilter.Any with { ResourceType = AclResourceType.Topic, ResourceName = "orders", PatternType = AclPatternType.Literal }));
        Assert.Equal([wildcard, prefix], Select(AclBindingFilter.Any with { Principal = Bob }));
        Assert.Equal([prefix], Select(AclBindingFilter.Any with { PatternType = AclPatternType.Prefixed }));
    }

    [Theory]
    [InlineData(AclResourceType.Cluster, "other", AclPatternType.Literal, "User:a", "kafka-cluster")]
    [InlineData(AclResourceType.Topic, "t", AclPatternType.Match, "User:a", "LITERAL or PREFIXED")]
    [InlineData(AclResourceType.Topic, "t", AclPatternType.Literal, "alice", "User:<name>")]
    [InlineData(AclResourceType.Any, "t", AclPatternType.Literal, "User:a", "TOPIC, GROUP, CLUSTER")]
    public void An_acl_that_cannot_be_stored_says_why(AclResourceType type, string name, AclPatternType pattern, string principal, string why) =>
        Assert.Contains(why, Acls.Invalid(new AclBinding(type, name, pattern, principal, "*", AclOperation.Read, AclPermissionType.Allow)), StringComparison.Ordinal);

    [Fact]
    public async Task The_copy_is_checked_against_the_store_once_per_staleness_bound_and_at_once_after_a_change_made_here()
    {
        var clock = new SteppedClock();
        var version = 1L;
        AclBinding[] acls = [];
        var asked = 0;
        var authorizer = new AclAuthorizer(On, known =>
        {
            Interlocked.Increment(ref asked);
            return Task.FromResult(known == version ? null : new AclSnapshot(version, acls));
        }, clock, NullLogger.Instance);

        var first = await authorizer.CurrentAsync();
        Assert.False(authorizer.Allows(first, Alice, Host, AclOperation.Read, AclResourceType.Topic, "t"));
        await authorizer.CurrentAsync();
        Assert.Equal(1, asked);

        // Changed through another silo: seen once the bound has passed.
        acls = [Acl(AclResourceType.Topic, "t", AclPatternType.Literal, Alice, AclOperation.Read)];
        version = 2;
        Assert.Equal(1, (await authorizer.CurrentAsync()).Version);
        clock.Advance(AclAuthorizer.Staleness);
        var second = await authorizer.CurrentAsync();
        Assert.Equal(2, asked);
        Assert.True(authorizer.Allows(second, Alice, Host, AclOperation.Read, AclResourceType.Topic, "t"));

        // Changed through this silo: seen by the next request.
        acls = [];
        version = 3;
        authorizer.Changed();
        var third = await authorizer.CurrentAsync();
        Assert.Equal(3, asked);
        Assert.False(authorizer.Allows(third, Alice, Host, AclOperation.Read, AclResourceType.Topic, "t"));
    }

    /// <summary>A clock that moves only when told.</summary>
    private sealed class SteppedClock : TimeProvider
    {
        private long ticks = 1_000_000;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => Interlocked.Read(ref ticks);

        public void Advance(TimeSpan by) => Interlocked.Add(ref ticks, by.Ticks);
    }
}
