using System.Diagnostics;
using System.Text;
using Actors.Testing;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace Actors.WebConsole.Tests;

/// <summary>
/// The web console in a real browser (headless chromium through Playwright) against three real silo processes: what
/// the pages show is checked against a Kafka client's own view (Confluent.Kafka's admin client and consumer), and every
/// test leaves a screenshot of its page in artifacts/console.
/// </summary>
[Collection(ConsoleCollection.Name)]
public sealed class ConsoleBrowserTests(ConsoleFixture fixture, ITestOutputHelper output)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [ChromiumFact]
    public async Task Every_page_loads_against_a_three_silo_cluster_and_the_cluster_page_shows_each_silo_Active()
    {
        var page = await fixture.NewPageAsync();
        var response = await page.GotoAsync(fixture.Url("silo1", "/"));
        Assert.Equal(200, response!.Status);
        Assert.EndsWith("/console/cluster", page.Url, StringComparison.Ordinal);
        foreach (var silo in fixture.Cluster.Silos)
        {
            var row = page.Locator($"#silos tr[data-endpoint='127.0.0.1:{silo.SiloPort}']");
            Assert.Equal("Active", await row.GetAttributeAsync("data-status"));
        }

        var controller = (await page.Locator("#controller b").InnerTextAsync()).Trim();
        Assert.Contains(controller, fixture.Cluster.Silos.Select(s => s.Name));
        await ShotAsync(page, "cluster");

        // A phone-sized view of the same page.
        var phone = await fixture.NewPageAsync(390, 844);
        await phone.GotoAsync(fixture.Url("silo2", "/console/cluster"));
        Assert.Equal(3, await phone.Locator("#silos tr[data-status='Active']").CountAsync());
        await ShotAsync(phone, "cluster-phone");

        foreach (var (path, heading, name) in new[] { ("/console/topics", "Topics", "topics"), ("/console/groups", "Consumer groups", "groups"), ("/console/messages", "Messages", "messages") })
        {
            var loaded = await page.GotoAsync(fixture.Url("silo3", path));
            Assert.Equal(200, loaded!.Status);
            Assert.Equal(heading, (await page.Locator("h1").InnerTextAsync()).Trim());
            await ShotAsync(page, name);
        }

        // silo3 runs with the default: read-only, and says so.
        Assert.Equal("read-only", (await page.Locator("#read-only").InnerTextAsync()).Trim());
    }

    [ChromiumFact]
    public async Task A_topic_created_in_the_console_is_seen_by_a_Kafka_admin_client_and_deleting_it_needs_its_name()
    {
        var topic = Unique("made-in-console");
        var page = await fixture.NewPageAsync();
        await page.GotoAsync(fixture.Url("silo1", "/console/topics"));
        await page.FillAsync("#create-topic input[name=name]", topic);
        await page.FillAsync("#create-topic input[name=partitions]", "3");
        await page.FillAsync("#create-topic input[name=replicationFactor]", "2");
        await page.FillAsync("#create-topic textarea[name=configs]", "retention.ms=3600000");
        await page.ClickAsync("#create-topic button");
        var result = (await page.Locator("#result").InnerTextAsync()).Trim();
        Assert.Contains($"Created topic '{topic}' with 3 partitions, replication factor 2", result, StringComparison.Ordinal);

        using var admin = Admin("silo2");
        var seen = await AwaitTopicAsync(admin, topic, t => t.Partitions.Count == 3 && t.Partitions.All(p => p.Replicas.Length == 2 && p.Leader >= 0));
        output.WriteLine($"admin client sees {topic}: {string.Join("; ", seen.Partitions.Select(p => $"{p.PartitionId} leader {p.Leader} replicas [{string.Join(',', p.Replicas)}]"))}");
        var configs = await admin.DescribeConfigsAsync([new ConfigResource { Type = ResourceType.Topic, Name = topic }]);
        Assert.Equal("3600000", configs[0].Entries["retention.ms"].Value);

        // The topic's page lists its partitions, then add one.
        await page.ClickAsync($"#topics tr[data-topic='{topic}'] a");
        Assert.Equal(3, await page.Locator("#partitions tbody tr").CountAsync());
        await page.FillAsync("#add-partitions input[name=count]", "4");
        await page.ClickAsync("#add-partitions button");
        Assert.Contains("now has 4 partitions", await page.Locator("#result").InnerTextAsync(), StringComparison.Ordinal);
        await AwaitTopicAsync(admin, topic, t => t.Partitions.Count == 4);
        await ShotAsync(page, "topic");

        // A wrong name in the confirmation deletes nothing; the right one deletes the topic.
        await page.FillAsync("#delete-topic input[name=confirm]", topic + "-not");
        await page.ClickAsync("#delete-topic button");
        Assert.Contains("does not match. Nothing was deleted", await page.Locator("#result").InnerTextAsync(), StringComparison.Ordinal);
        Assert.Contains(admin.GetMetadata(topic, TimeSpan.FromSeconds(10)).Topics, t => t.Topic == topic && !t.Error.IsError);
        await page.FillAsync("#delete-topic input[name=confirm]", topic);
        await page.ClickAsync("#delete-topic button");
        Assert.Contains($"Deleted topic '{topic}'", await page.Locator("#result").InnerTextAsync(), StringComparison.Ordinal);
        await Wait.UntilAsync(() => admin.GetMetadata(TimeSpan.FromSeconds(10)).Topics.All(t => t.Topic != topic), Deadline,
            $"the admin client to stop listing {topic} after the console deleted it");
    }

    [ChromiumFact]
    public async Task A_read_only_silo_refuses_changes_naming_the_setting_and_changes_nothing()
    {
        var topic = Unique("refused");
        var page = await fixture.NewPageAsync();
        await page.GotoAsync(fixture.Url("silo3", "/console/topics"));
        await page.FillAsync("#create-topic input[name=name]", topic);
        await page.ClickAsync("#create-topic button");
        var result = (await page.Locator("#result").InnerTextAsync()).Trim();
        Assert.Contains("console.allow.changes=true", result, StringComparison.Ordinal);
        await ShotAsync(page, "read-only-refusal");

        using var admin = Admin("silo1");
        var metadata = admin.GetMetadata(TimeSpan.FromSeconds(10));
        Assert.DoesNotContain(metadata.Topics, t => t.Topic == topic && !t.Error.IsError);
    }

    [ChromiumFact]
    public async Task The_lag_shown_for_a_group_equals_its_committed_offsets_against_the_log_end_and_is_charted()
    {
        var topic = Unique("lagged");
        var group = Unique("lag-group");
        using var admin = Admin("silo1");
        await admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = 3, ReplicationFactor = 2 }]);
        await AwaitTopicAsync(admin, topic, t => t.Partitions.Count == 3 && t.Partitions.All(p => p.Leader >= 0));
        await ProduceAsync(topic, 45);

        // The group reads 20 records, commits, and leaves.
        using (var consumer = Consumer(group))
        {
            consumer.Subscribe(topic);
            var read = 0;
            var clock = Stopwatch.StartNew();
            while (read < 20 && clock.Elapsed < Deadline)
            {
                if (consumer.Consume(TimeSpan.FromMilliseconds(500)) is { IsPartitionEOF: false, Message: not null })
                {
                    read++;
                }
            }

            Assert.True(read == 20, $"the group should read 20 of the 45 records within {Deadline.TotalSeconds} s; read {read}");
            consumer.Commit();
            consumer.Close();
        }

        // More records after the commit, on every partition the keys reach, so the group lags where it committed.
        await ProduceAsync(topic, 30);

        // The oracle: what a Kafka client computes from the committed offsets and the high watermarks.
        var expected = new Dictionary<int, long>();
        using (var probe = Consumer(group))
        {
            var partitions = Enumerable.Range(0, 3).Select(p => new TopicPartition(topic, p)).ToList();
            var committed = probe.Committed(partitions, TimeSpan.FromSeconds(10));
            foreach (var c in committed)
            {
                var end = probe.QueryWatermarkOffsets(c.TopicPartition, TimeSpan.FromSeconds(10)).High.Value;
                expected[c.Partition.Value] = c.Offset.Value >= 0 ? end - c.Offset.Value : -1;
            }
        }

        output.WriteLine($"lag by a Kafka client: {string.Join(", ", expected.Select(e => $"{topic}-{e.Key}={e.Value}"))}");
        // Partitions the group never committed to have no lag (the page, like kafka-consumer-groups --describe, shows
        // no row or "–" for them); the total is the sum over the committed ones.
        var committedLag = expected.Where(e => e.Value >= 0).ToDictionary(e => e.Key, e => e.Value);
        var expectedTotal = committedLag.Values.Sum();
        Assert.True(expectedTotal > 0, $"the group should lag behind on a partition it committed to; lag by partition: {string.Join(", ", expected)}");
        var page = await fixture.NewPageAsync();
        await page.GotoAsync(fixture.Url("silo2", $"/console/groups/{group}"));
        var shown = "";
        await Wait.UntilAsync(async () =>
        {
            var rows = new StringBuilder();
            var match = true;
            foreach (var (partition, lag) in expected)
            {
                var cell = page.Locator($"#offsets tr[data-tp='{topic}-{partition}'] td.lag");
                var text = await cell.CountAsync() == 1 ? (await cell.InnerTextAsync()).Trim() : "absent";
                rows.Append(CultureInfo($"{topic}-{partition}={text} "));
                match &= lag >= 0 ? text == lag.ToString(System.Globalization.CultureInfo.InvariantCulture) : text is "absent" or "–";
            }

            var total = (await page.Locator("#total-lag").InnerTextAsync()).Trim().Replace(",", "", StringComparison.Ordinal);
            shown = rows + $"total={total}";
            return match && total == expectedTotal.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }, Deadline, $"the group page to show the lag a Kafka client computes ({string.Join(", ", expected.Select(e => $"{e.Key}={e.Value}"))}, total {expectedTotal})", () => shown);
        // The silo samples lag every second here; the chart draws the samples.
        await Wait.UntilAsync(async () => int.TryParse(await page.Locator("#lag-chart").GetAttributeAsync("data-samples") ?? "0", out var n) && n >= 2,
            Deadline, "the lag chart to draw at least two samples");
        Assert.Equal(1, await page.Locator("#lag-chart svg polyline").CountAsync());
        await ShotAsync(page, "group-lag");
    }

    /// <summary>In is the partitions' end offsets advancing; out is records the silos' Kafka listeners sent to
    /// consumers (actors.kafka.messages.out, summed over the silos). Each shows up only after what it measures.</summary>
    [ChromiumFact]
    public async Task The_topics_page_shows_messages_in_after_a_produce_and_messages_out_only_once_a_consumer_fetched_them()
    {
        var topic = Unique("traffic");
        using var admin = Admin("silo1");
        await admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = 2, ReplicationFactor = 2 }]);
        await AwaitTopicAsync(admin, topic, t => t.Partitions.Count == 2 && t.Partitions.All(p => p.Leader >= 0));
        var page = await fixture.NewPageAsync();
        await page.GotoAsync(fixture.Url("silo3", "/console/topics"));
        var row = page.Locator($"#topics tr[data-topic='{topic}']");
        var shown = "";
        async Task<Traffic> ShownAsync()
        {
            var traffic = await TrafficAsync(row);
            shown = traffic.ToString();
            return traffic;
        }

        // Produce until the open page shows records coming in (it refreshes itself; the silo samples every second).
        // Nothing has read them: out shows no traffic, and nothing was fetched.
        var produced = 0;
        using (var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = fixture.Bootstrap("silo1"), Acks = Acks.All }).Build())
        {
            await Wait.UntilAsync(async () =>
            {
                for (var i = 0; i < 5; i++)
                {
                    await producer.ProduceAsync(topic, new Message<string, string> { Key = $"key-{produced}", Value = $"value-{produced}" });
                    produced++;
                }

                return (await ShownAsync()).In > 0;
            }, Deadline, $"the Topics page to show messages/s in for {topic} while records are produced to it", () => shown);
        }

        var afterProduce = await TrafficAsync(row);
        Assert.True(afterProduce.Out is null or 0 && afterProduce.Fetched is null or 0,
            $"no consumer has read {topic} yet, so out should show no traffic and nothing fetched; shown {afterProduce}");
        output.WriteLine($"after producing {produced} records: {afterProduce}");

        // Once the producer stops, the next samples show no more records coming in.
        await Wait.UntilAsync(async () => (await ShownAsync()).In == 0,
            Deadline, $"the in rate of {topic} to fall to 0/s after the producer stopped", () => shown);

        // A Kafka consumer reads every record; the page then shows them going out, and none coming in. The rate is over
        // one sample interval, so the page is watched (off the test's thread) from before the consumer starts.
        Traffic outgoing = default;
        var seenOut = Task.Run(() => Wait.UntilAsync(async () => (outgoing = await TrafficAsync(row)).Out > 0, Deadline + Deadline,
            $"the Topics page to show messages/s out for {topic} after a consumer fetched its {produced} records", () => outgoing.ToString()));
        using (var consumer = Consumer(Unique("traffic-reader")))
        {
            consumer.Assign([new TopicPartitionOffset(topic, 0, 0), new TopicPartitionOffset(topic, 1, 0)]);
            var read = 0;
            var clock = Stopwatch.StartNew();
            while (read < produced && clock.Elapsed < Deadline)
            {
                if (consumer.Consume(TimeSpan.FromMilliseconds(500)) is { IsPartitionEOF: false, Message: not null })
                {
                    read++;
                }
            }

            Assert.True(read == produced, $"the consumer should read the {produced} records of {topic} within {Deadline.TotalSeconds} s; read {read}");
            await seenOut;
            Assert.True(outgoing.In == 0, $"nothing was produced to {topic} while it was consumed, so in should be 0/s; shown {outgoing}");
            output.WriteLine($"after consuming: {outgoing}");
            await ShotAsync(page, "topics-traffic");
            consumer.Close();
        }

        // Every record was sent to the consumer once, in whole batches from offset 0: the total fetched is what was produced.
        await Wait.UntilAsync(async () => (await ShownAsync()).Fetched == produced,
            Deadline, $"the Topics page to show {produced} records of {topic} fetched", () => shown);
    }

    /// <summary>What one topic's row shows: records/s in and out (null for "–") and records fetched.</summary>
    private readonly record struct Traffic(double? In, double? Out, long? Fetched);

    private static async Task<Traffic> TrafficAsync(ILocator row)
    {
        if (await row.CountAsync() != 1)
        {
            return new Traffic(null, null, null);
        }

        static string Clean(string text) => text.Trim().Replace(",", "", StringComparison.Ordinal).Replace("/s", "", StringComparison.Ordinal);
        var inText = Clean(await row.Locator("td.in").InnerTextAsync());
        var outText = Clean(await row.Locator("td.out").InnerTextAsync());
        var fetchedText = Clean(await row.Locator("td.fetched").InnerTextAsync());
        var invariant = System.Globalization.CultureInfo.InvariantCulture;
        return new Traffic(
            double.TryParse(inText, System.Globalization.NumberStyles.Float, invariant, out var i) ? i : null,
            double.TryParse(outText, System.Globalization.NumberStyles.Float, invariant, out var o) ? o : null,
            long.TryParse(fetchedText, System.Globalization.NumberStyles.None, invariant, out var f) ? f : null);
    }

    [ChromiumFact]
    public async Task Resetting_offsets_is_refused_while_the_group_has_members_and_works_from_a_dry_run_once_it_has_none()
    {
        var topic = Unique("reset");
        var group = Unique("reset-group");
        using var admin = Admin("silo1");
        await admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = 2, ReplicationFactor = 2 }]);
        await AwaitTopicAsync(admin, topic, t => t.Partitions.Count == 2 && t.Partitions.All(p => p.Leader >= 0));
        await ProduceAsync(topic, 10);

        var page = await fixture.NewPageAsync();
        using (var consumer = Consumer(group))
        {
            consumer.Subscribe(topic);
            var clock = Stopwatch.StartNew();
            while (consumer.Assignment.Count < 2 && clock.Elapsed < Deadline)
            {
                consumer.Consume(TimeSpan.FromMilliseconds(200));
            }

            Assert.True(consumer.Assignment.Count == 2, $"the consumer should be assigned both partitions of {topic} within {Deadline.TotalSeconds} s");
            consumer.Commit([new TopicPartitionOffset(topic, 0, 5), new TopicPartitionOffset(topic, 1, 5)]);

            await page.GotoAsync(fixture.Url("silo1", $"/console/groups/{group}"));
            // The classic member's assignment, decoded from what its leader relayed.
            var members = "";
            await Wait.UntilAsync(async () => (members = await page.Locator("#members").InnerTextAsync()).Contains($"{topic}-0, {topic}-1", StringComparison.Ordinal),
                Deadline, $"the members table to show the consumer's assignment {topic}-0, {topic}-1", () => members);
            await page.SelectOptionAsync("#reset-offsets select[name=mode]", "to-earliest");
            await page.ClickAsync("#reset-offsets button");
            var refusal = (await page.Locator("#result").InnerTextAsync()).Trim();
            Assert.Contains("active member", refusal, StringComparison.Ordinal);
            Assert.Equal(0, await page.Locator("#execute-reset").CountAsync());
            await ShotAsync(page, "reset-refused");
            consumer.Close();
        }

        // With the member gone: a dry run first, then the plan is executed.
        await page.GotoAsync(fixture.Url("silo1", $"/console/groups/{group}"));
        await Wait.UntilAsync(async () =>
        {
            await page.ReloadAsync();
            return (await page.Locator("#member-count").InnerTextAsync()).Trim() == "0";
        }, Deadline, $"group {group} to show no members after its consumer closed");
        await page.SelectOptionAsync("#reset-offsets select[name=mode]", "to-earliest");
        await page.ClickAsync("#reset-offsets button");
        Assert.Contains("Dry run", await page.Locator("#result").InnerTextAsync(), StringComparison.Ordinal);
        Assert.Equal(2, await page.Locator("#reset-plan tbody tr").CountAsync());
        using (var probe = Consumer(group))
        {
            var before = probe.Committed([new TopicPartition(topic, 0), new TopicPartition(topic, 1)], TimeSpan.FromSeconds(10));
            Assert.All(before, c => Assert.Equal(5, c.Offset.Value));
        }

        await page.ClickAsync("#execute-reset button");
        Assert.Contains("were reset", await page.Locator("#result").InnerTextAsync(), StringComparison.Ordinal);
        await ShotAsync(page, "reset-executed");
        using (var probe = Consumer(group))
        {
            var after = probe.Committed([new TopicPartition(topic, 0), new TopicPartition(topic, 1)], TimeSpan.FromSeconds(10));
            Assert.All(after, c => Assert.Equal(0, c.Offset.Value));
        }
    }

    [ChromiumFact]
    public async Task A_message_produced_in_the_console_is_read_by_a_Kafka_consumer_and_browsed_as_JSON()
    {
        var topic = Unique("browse");
        using var admin = Admin("silo1");
        await admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = 2, ReplicationFactor = 2 }]);
        await AwaitTopicAsync(admin, topic, t => t.Partitions.Count == 2 && t.Partitions.All(p => p.Leader >= 0));

        var page = await fixture.NewPageAsync();
        await page.GotoAsync(fixture.Url("silo2", $"/console/messages?topic={topic}&partition=1"));
        await page.FillAsync("#produce input[name=partition]", "1");
        await page.FillAsync("#produce input[name=key]", "order-7");
        await page.FillAsync("#produce textarea[name=value]", "{\"item\":\"tea\",\"count\":2}");
        await page.FillAsync("#produce textarea[name=headers]", "source=console");
        await page.ClickAsync("#produce button");
        Assert.Contains($"Produced to {topic}-1 at offset 0", await page.Locator("#result").InnerTextAsync(), StringComparison.Ordinal);

        using (var consumer = Consumer(Unique("reader")))
        {
            consumer.Assign(new TopicPartitionOffset(topic, 1, 0));
            var message = consumer.Consume(Deadline);
            Assert.NotNull(message);
            Assert.Equal("order-7", Encoding.UTF8.GetString(message.Message.Key));
            Assert.Equal("{\"item\":\"tea\",\"count\":2}", Encoding.UTF8.GetString(message.Message.Value));
            Assert.Equal("console", Encoding.UTF8.GetString(message.Message.Headers.GetLastBytes("source")));
        }

        await page.GotoAsync(fixture.Url("silo2", $"/console/messages?topic={topic}&partition=1&offset=0&format=json"));
        var value = await page.Locator("#records tr[data-offset='0'] td.value").InnerTextAsync();
        Assert.Contains("\"item\": \"tea\"", value, StringComparison.Ordinal);
        Assert.Equal("order-7", (await page.Locator("#records tr[data-offset='0'] td.key").InnerTextAsync()).Trim());
        await ShotAsync(page, "messages-json");
        await page.GotoAsync(fixture.Url("silo2", $"/console/messages?topic={topic}&partition=1&offset=0&format=hex"));
        Assert.StartsWith("6f 72 64 65 72", (await page.Locator("#records tr[data-offset='0'] td.key").InnerTextAsync()).Trim(), StringComparison.Ordinal);
    }

    /// <summary>The killed silo is started again at the end, so the other tests find three silos whatever the order.</summary>
    [ChromiumFact]
    public async Task A_SIGKILLed_silo_turns_Dead_on_an_open_cluster_page_within_the_failure_detection_time()
    {
        var victim = fixture.Cluster.Silo("silo2");
        var page = await fixture.NewPageAsync();
        await page.GotoAsync(fixture.Url("silo1", "/console/cluster"));
        var row = page.Locator($"#silos tr[data-endpoint='127.0.0.1:{victim.SiloPort}']");
        Assert.Equal("Active", await row.GetAttributeAsync("data-status"));

        var clock = Stopwatch.StartNew();
        victim.Kill();
        // The page refreshes itself; nothing reloads it. The silos declare a SIGKILLed peer Dead within 10 s
        // (FailureDetectionTests), and the page asks every half second here.
        var status = "";
        await Wait.UntilAsync(async () => (status = await row.GetAttributeAsync("data-status") ?? "") == "Dead", TimeSpan.FromSeconds(20),
            $"{victim.Name}'s row on silo1's open cluster page to turn Dead after SIGKILL", () => status);
        output.WriteLine($"{victim.Name} shown Dead {clock.Elapsed.TotalSeconds:0.0} s after SIGKILL");
        await ShotAsync(page, "cluster-silo-dead");

        // Put the cluster back for the other tests.
        victim.Start();
        await Wait.UntilAsync(() => victim.Started, TimeSpan.FromSeconds(120), $"{victim.Name} to start again", fixture.Cluster.Tails);
        await fixture.WaitForConsoleAsync(victim);
    }

    private static string CultureInfo(FormattableString text) => FormattableString.Invariant(text);

    private static string Unique(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 9)];

    private async Task ShotAsync(IPage page, string name)
    {
        var path = await ConsoleFixture.ScreenshotAsync(page, name);
        output.WriteLine($"screenshot: {path}");
    }

    private IAdminClient Admin(string silo) =>
        new AdminClientBuilder(new AdminClientConfig { BootstrapServers = fixture.Bootstrap(silo) }).Build();

    private IConsumer<byte[], byte[]> Consumer(string group) =>
        new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig
        {
            BootstrapServers = fixture.Bootstrap("silo1"),
            GroupId = group,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            EnableAutoCommit = false,
            SessionTimeoutMs = 10_000,
        }).Build();

    private async Task ProduceAsync(string topic, int count)
    {
        using var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = fixture.Bootstrap("silo1"), Acks = Acks.Leader }).Build();
        for (var i = 0; i < count; i++)
        {
            await producer.ProduceAsync(topic, new Message<string, string> { Key = $"key-{i}", Value = $"value-{i}" });
        }
    }

    private static async Task<TopicMetadata> AwaitTopicAsync(IAdminClient admin, string topic, Func<TopicMetadata, bool> ready)
    {
        TopicMetadata? seen = null;
        await Wait.UntilAsync(() =>
        {
            seen = admin.GetMetadata(topic, TimeSpan.FromSeconds(10)).Topics.FirstOrDefault(t => t.Topic == topic && !t.Error.IsError);
            return seen is not null && ready(seen);
        }, Deadline, $"the admin client to see topic {topic} as expected", () => seen is null ? "absent" :
            string.Join("; ", seen.Partitions.Select(p => $"{p.PartitionId} leader {p.Leader} replicas [{string.Join(',', p.Replicas)}]")));
        return seen!;
    }
}
