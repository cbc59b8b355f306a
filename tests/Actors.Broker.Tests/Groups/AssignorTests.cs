using Actors.Broker.Groups;

namespace Actors.Broker.Tests.Groups;

public class AssignorTests
{
    private static AssignmentMember M(string id, string[] topics, params TopicPartition[] current) => new(id, topics, current);

    private static TopicPartition TP(string t, int p) => new(t, p);

    [Fact]
    public void Range_gives_consecutive_ranges_with_extras_first()
    {
        var a = new RangeAssignor().Assign(
            [M("m2", ["t"]), M("m1", ["t"]), M("m3", ["t", "u"])],
            new Dictionary<string, int> { ["t"] = 7, ["u"] = 2 });
        Assert.Equal(new[] { TP("t", 0), TP("t", 1), TP("t", 2) }, a["m1"]);
        Assert.Equal(new[] { TP("t", 3), TP("t", 4) }, a["m2"]);
        Assert.Equal(new[] { TP("t", 5), TP("t", 6), TP("u", 0), TP("u", 1) }, a["m3"]);
    }

    [Fact]
    public void Round_robin_deals_in_order_skipping_non_subscribers()
    {
        var a = new RoundRobinAssignor().Assign(
            [M("a", ["t", "u"]), M("b", ["t"])],
            new Dictionary<string, int> { ["t"] = 3, ["u"] = 2 });
        // u-0 and u-1 go to "a": the cursor skips "b", which does not subscribe to u.
        Assert.Equal(new[] { TP("t", 0), TP("t", 2), TP("u", 0), TP("u", 1) }, a["a"]);
        Assert.Equal(new[] { TP("t", 1) }, a["b"]);
    }

    [Theory]
    [InlineData("range")]
    [InlineData("roundrobin")]
    [InlineData("sticky")]
    [InlineData("uniform")]
    public void Three_members_six_partitions_get_two_each(string assignor)
    {
        var a = PartitionAssignors.Get(assignor).Assign(
            [M("m1", ["t"]), M("m2", ["t"]), M("m3", ["t"])],
            new Dictionary<string, int> { ["t"] = 6 });
        Assert.All(a.Values, v => Assert.Equal(2, v.Length));
        Assert.Equal(6, a.Values.SelectMany(v => v).Distinct().Count());
    }

    [Fact]
    public void Sticky_moves_only_the_leaving_members_partitions()
    {
        var counts = new Dictionary<string, int> { ["t"] = 6 };
        var sticky = new StickyAssignor();
        var first = sticky.Assign([M("m1", ["t"]), M("m2", ["t"]), M("m3", ["t"])], counts);
        var second = sticky.Assign([M("m1", ["t"], first["m1"]), M("m3", ["t"], first["m3"])], counts);
        Assert.Superset(new HashSet<TopicPartition>(first["m1"]), new HashSet<TopicPartition>(second["m1"]) );
        Assert.True(first["m1"].All(second["m1"].Contains));
        Assert.True(first["m3"].All(second["m3"].Contains));
        Assert.Equal(3, second["m1"].Length);
        Assert.Equal(3, second["m3"].Length);
    }

    [Fact]
    public void Sticky_joining_member_takes_only_what_balance_needs()
    {
        var counts = new Dictionary<string, int> { ["t"] = 6 };
        var sticky = new StickyAssignor();
        var first = sticky.Assign([M("m1", ["t"]), M("m2", ["t"]), M("m3", ["t"])], counts);
        var second = sticky.Assign([M("m1", ["t"], first["m1"]), M("m2", ["t"], first["m2"]), M("m3", ["t"], first["m3"]), M("m4", ["t"])], counts);
        var moved = new[] { "m1", "m2", "m3" }.Sum(id => first[id].Count(tp => !second[id].Contains(tp)));
        Assert.Equal(1, moved);
        Assert.Single(second["m4"]);
    }

    [Fact]
    public void Randomized_assignments_cover_every_partition_once_and_respect_subscriptions()
    {
        var seed = 777;
        Console.WriteLine($"seed={seed}");
        var rng = new Random(seed);
        var topics = new[] { "a", "b", "c", "d" };
        foreach (var name in PartitionAssignors.Names)
        {
            var assignor = PartitionAssignors.Get(name);
            IReadOnlyDictionary<string, TopicPartition[]> previous = new Dictionary<string, TopicPartition[]>();
            for (var round = 0; round < 100; round++)
            {
                var counts = topics.ToDictionary(t => t, _ => rng.Next(1, 8));
                var homogeneous = rng.Next(2) == 0;
                var members = Enumerable.Range(0, rng.Next(1, 7)).Select(i =>
                {
                    var id = $"m{rng.Next(0, 10)}";
                    var subs = homogeneous ? topics : topics.Where(_ => rng.Next(2) == 0).DefaultIfEmpty("a").ToArray();
                    return (id, subs);
                }).DistinctBy(x => x.id).Select(x => M(x.id, x.subs, previous.TryGetValue(x.id, out var cur) ? cur : [])).ToList();

                var result = assignor.Assign(members, counts);
                var subscribed = members.SelectMany(m => m.SubscribedTopics).Distinct()
                    .SelectMany(t => Enumerable.Range(0, counts[t]).Select(p => TP(t, p))).ToHashSet();
                var all = result.Values.SelectMany(v => v).ToList();
                Assert.Equal(all.Count, all.Distinct().Count());
                Assert.True(subscribed.SetEquals(all), $"{name} round {round}: not every subscribed partition assigned exactly once");
                foreach (var m in members)
                {
                    Assert.All(result[m.MemberId], tp => Assert.Contains(tp.Topic, m.SubscribedTopics));
                }

                if (homogeneous && name != PartitionAssignors.Range)
                {
                    var sizes = result.Values.Select(v => v.Length).ToArray();
                    Assert.True(sizes.Max() - sizes.Min() <= 1, $"{name} round {round}: unbalanced {string.Join(',', sizes)}");
                }

                previous = result;
            }
        }
    }

    [Fact]
    public void Unknown_assignor_is_refused_naming_the_known_ones()
    {
        var ex = Assert.Throws<BrokerException>(() => PartitionAssignors.Get("cooperative-magic"));
        Assert.Equal(ErrorCode.UnsupportedAssignor, ex.Code);
        Assert.Contains("uniform, range, roundrobin", ex.Message, StringComparison.Ordinal);
        Assert.Equal(PartitionAssignors.Uniform, PartitionAssignors.Get(null).Name);
        Assert.Equal(PartitionAssignors.Uniform, PartitionAssignors.Get(PartitionAssignors.Sticky).Name);
    }
}

public class AssignmentReconcilerTests
{
    private static TopicPartition TP(int p) => new("t", p);

    [Fact]
    public void Moving_partition_is_revoked_before_it_is_given()
    {
        // m1 owns 0,1,2; the new target moves 2 to m2.
        var owned = new Dictionary<string, HashSet<TopicPartition>>
        {
            ["m1"] = [TP(0), TP(1), TP(2)],
            ["m2"] = [],
        };
        var target = new Dictionary<string, TopicPartition[]> { ["m1"] = [TP(0), TP(1)], ["m2"] = [TP(2)] };
        bool OwnedByOthers(string me, TopicPartition tp) => owned.Any(kv => kv.Key != me && kv.Value.Contains(tp));

        // m2 heartbeats first: 2 is still owned by m1, so m2 gets nothing yet.
        var m2 = AssignmentReconciler.Next(owned["m2"], target["m2"], tp => OwnedByOthers("m2", tp));
        Assert.Empty(m2.Assignment);
        Assert.Equal(new[] { TP(2) }, m2.Pending);
        Assert.False(m2.IsReconciled);

        // m1 is told to drop 2 and keeps 0 and 1.
        var m1 = AssignmentReconciler.Next(owned["m1"], target["m1"], tp => OwnedByOthers("m1", tp));
        Assert.Equal(new[] { TP(0), TP(1) }, m1.Assignment);
        Assert.Equal(new[] { TP(2) }, m1.Revoking);
        owned["m1"] = [.. m1.Assignment];   // m1 acknowledges the revocation

        m2 = AssignmentReconciler.Next(owned["m2"], target["m2"], tp => OwnedByOthers("m2", tp));
        Assert.Equal(new[] { TP(2) }, m2.Assignment);
        Assert.True(m2.IsReconciled);
    }

    [Fact]
    public void Randomized_group_never_has_two_owners_and_converges()
    {
        var seed = 99;
        Console.WriteLine($"seed={seed}");
        var rng = new Random(seed);
        var sticky = new StickyAssignor();
        var counts = new Dictionary<string, int> { ["t"] = 12 };
        var owned = new Dictionary<string, HashSet<TopicPartition>>();
        for (var round = 0; round < 60; round++)
        {
            // Membership change.
            if (owned.Count < 2 || rng.Next(3) > 0)
            {
                owned[$"m{round}"] = [];
            }
            else
            {
                owned.Remove(owned.Keys.ElementAt(rng.Next(owned.Count)));
            }

            var target = sticky.Assign(owned.Select(kv => new AssignmentMember(kv.Key, ["t"], kv.Value)).ToList(), counts);

            // Members heartbeat in random order until every one is reconciled; ownership is checked after each step.
            for (var step = 0; step < 100 && !owned.Keys.All(id => owned[id].SetEquals(target[id])); step++)
            {
                var id = owned.Keys.ElementAt(rng.Next(owned.Count));
                var next = AssignmentReconciler.Next(owned[id], target[id], tp => owned.Any(kv => kv.Key != id && kv.Value.Contains(tp)));
                owned[id] = [.. next.Assignment];
                var all = owned.Values.SelectMany(v => v).ToList();
                Assert.Equal(all.Count, all.Distinct().Count());
            }

            Assert.True(owned.Keys.All(id => owned[id].SetEquals(target[id])), $"round {round} did not converge");
        }
    }
}

public class OffsetResetPlannerTests
{
    private static TopicPartition TP(int p) => new("t", p);

    private static readonly PartitionOffsetBounds[] Bounds =
    [
        new(TP(0), 10, 100, OffsetForTimestamp: 40),
        new(TP(1), 0, 50, OffsetForTimestamp: null),
    ];

    private static readonly Dictionary<TopicPartition, long> Committed = new() { [TP(0)] = 60 };

    [Theory]
    [InlineData(OffsetResetMode.ToEarliest, 0, 10, 0)]
    [InlineData(OffsetResetMode.ToLatest, 0, 100, 50)]
    [InlineData(OffsetResetMode.ToOffset, 30, 30, 30)]
    [InlineData(OffsetResetMode.ToOffset, 5, 10, 5)]
    [InlineData(OffsetResetMode.ToOffset, 500, 100, 50)]
    [InlineData(OffsetResetMode.ShiftBy, -20, 40, 30)]
    [InlineData(OffsetResetMode.ShiftBy, -1000, 10, 0)]
    [InlineData(OffsetResetMode.ShiftBy, 1000, 100, 50)]
    [InlineData(OffsetResetMode.ToDatetime, 123, 40, 50)]
    [InlineData(OffsetResetMode.ToCurrent, 0, 60, 50)]
    public void Plans_each_mode_and_clamps_to_the_log(OffsetResetMode mode, long value, long expected0, long expected1)
    {
        var plan = OffsetResetPlanner.Plan(mode, value, Bounds, Committed);
        Assert.Equal(2, plan.Length);
        Assert.Equal(60, plan[0].CurrentOffset);
        Assert.Equal(-1, plan[1].CurrentOffset);
        Assert.Equal(expected0, plan[0].NewOffset);
        Assert.Equal(expected1, plan[1].NewOffset);
    }

    [Fact]
    public void By_duration_targets_now_minus_duration()
    {
        Assert.Equal(1_000_000 - 60_000, OffsetResetPlanner.TargetTimestamp(OffsetResetMode.ByDuration, 60_000, 1_000_000));
        Assert.Equal(5, OffsetResetPlanner.TargetTimestamp(OffsetResetMode.ToDatetime, 5, 1_000_000));
        Assert.Null(OffsetResetPlanner.TargetTimestamp(OffsetResetMode.ToEarliest, 5, 1_000_000));
        Assert.Equal(ErrorCode.InvalidRequest, Assert.Throws<BrokerException>(() => OffsetResetPlanner.TargetTimestamp(OffsetResetMode.ByDuration, -1, 0)).Code);
        Assert.Equal(ErrorCode.InvalidRequest, Assert.Throws<BrokerException>(() => OffsetResetPlanner.Plan(OffsetResetMode.ToOffset, -1, Bounds, Committed)).Code);
    }

    [Fact]
    public void Selects_explicit_partitions_topics_or_committed_ones()
    {
        var counts = new Dictionary<string, int> { ["t"] = 3, ["u"] = 1 };
        var committed = new[] { TP(1), new TopicPartition("gone", 0) };
        Assert.Equal(new[] { TP(1) }, OffsetResetPlanner.SelectPartitions(new ResetOffsetsRequest(), counts, committed));
        Assert.Equal(new[] { TP(0), TP(1), TP(2) }, OffsetResetPlanner.SelectPartitions(new ResetOffsetsRequest { Topics = ["t"] }, counts, committed));
        Assert.Equal(new[] { TP(2) }, OffsetResetPlanner.SelectPartitions(new ResetOffsetsRequest { Partitions = [TP(2)] }, counts, committed));
        Assert.Equal(ErrorCode.UnknownTopicOrPartition,
            Assert.Throws<BrokerException>(() => OffsetResetPlanner.SelectPartitions(new ResetOffsetsRequest { Partitions = [TP(3)] }, counts, committed)).Code);
        Assert.Equal(ErrorCode.UnknownTopicOrPartition,
            Assert.Throws<BrokerException>(() => OffsetResetPlanner.SelectPartitions(new ResetOffsetsRequest { Topics = ["nope"] }, counts, committed)).Code);
    }
}
