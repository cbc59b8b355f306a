using System.Collections.Immutable;
using Actors.Membership;
using Microsoft.Extensions.Options;

namespace Actors.Runtime.Tests.Membership;

public sealed class MembershipViewAndOptionsTests
{
    private static ClusterMembershipSnapshot Snapshot(long version) =>
        new(ImmutableDictionary<SiloAddress, ClusterMember>.Empty, version);

    [Fact]
    public void The_publisher_accepts_only_successors()
    {
        var publisher = new MembershipSnapshotPublisher();
        var seen = new List<long>();
        publisher.Changed += s => seen.Add(s.Version);

        Assert.True(publisher.TryPublish(Snapshot(3)));
        Assert.False(publisher.TryPublish(Snapshot(3)));
        Assert.False(publisher.TryPublish(Snapshot(2)));
        Assert.True(publisher.TryPublish(Snapshot(7)));

        Assert.Equal([3, 7], seen);
        Assert.Equal(7, publisher.Current.Version);
    }

    [Fact]
    public void A_throwing_subscriber_does_not_stop_the_others()
    {
        var errors = new List<Exception>();
        var publisher = new MembershipSnapshotPublisher(errors.Add);
        var seen = 0;
        publisher.Changed += _ => throw new InvalidOperationException("boom");
        publisher.Changed += _ => seen++;

        Assert.True(publisher.TryPublish(Snapshot(1)));

        Assert.Equal(1, seen);
        Assert.Single(errors);
    }

    [Fact]
    public void The_default_options_are_valid_and_detect_within_ten_seconds()
    {
        var options = new ClusterMembershipOptions();
        options.Validate();

        var worstCase = (options.ProbePeriod + options.ProbeTimeout) * options.NumMissedProbesLimit + options.TableRefreshPeriod;
        Assert.True(worstCase < TimeSpan.FromSeconds(10), $"worst case {worstCase}");
    }

    [Theory]
    [InlineData("ProbePeriod")]
    [InlineData("NumMissedProbesLimit")]
    [InlineData("NumVotesForDeathDeclaration")]
    [InlineData("DeathVoteExpiration")]
    [InlineData("TableRefreshPeriod")]
    public void A_bad_setting_is_named_in_the_error(string setting)
    {
        var options = new ClusterMembershipOptions();
        switch (setting)
        {
            case "ProbePeriod": options.ProbePeriod = TimeSpan.Zero; break;
            case "NumMissedProbesLimit": options.NumMissedProbesLimit = 0; break;
            case "NumVotesForDeathDeclaration": options.NumVotesForDeathDeclaration = -1; break;
            case "DeathVoteExpiration": options.DeathVoteExpiration = TimeSpan.FromSeconds(2); break;
            case "TableRefreshPeriod": options.TableRefreshPeriod = TimeSpan.FromSeconds(-1); break;
        }

        var error = Assert.Throws<OptionsValidationException>(options.Validate);

        Assert.Contains($"ClusterMembershipOptions.{setting}", error.Message, StringComparison.Ordinal);
    }
}
