using System.Globalization;
using System.Text;
using Actors.Broker;
using static Actors.WebConsole.Html;

namespace Actors.WebConsole;

/// <summary>The console's pages and the fragments their scripts refresh. Pure functions of the data they are given.</summary>
internal static class Pages
{
    // ---------------------------------------------------------------- Cluster

    public static string Cluster(ClusterView view)
    {
        var now = view.At;
        var html = new StringBuilder();
        var active = view.Silos.Count(s => s.Status == "Active");
        html.Append("<div class=\"cards\">")
            .Append(Card(N(active), "silos Active")).Append(Card(N(view.Silos.Count(s => s.Status == "Dead")), "silos Dead"))
            .Append(Card(E(view.ControllerSilo ?? "moving"), "controller", "controller"))
            .Append(Card(N(view.Topics), "topics")).Append(Card(N(view.Partitions), "partitions"))
            .Append(Card(N(view.UnderReplicated), "under-replicated", cls: view.UnderReplicated > 0 ? "warn" : null))
            .Append(Card(N(view.Offline), "offline", cls: view.Offline > 0 ? "bad" : null))
            .Append("</div>");
        html.Append("<div class=\"scroll\"><table id=\"silos\"><thead><tr><th>Silo</th><th>Status</th><th>Address</th><th class=\"num\">Uptime</th>")
            .Append("<th class=\"num\">Leads</th><th class=\"num\">Replicas</th><th class=\"num\">Log on disk</th><th class=\"num\">Heap</th>")
            .Append("<th class=\"num\">Working set</th><th>Role</th></tr></thead><tbody>");
        foreach (var s in view.Silos)
        {
            var alive = s.Status != "Dead";
            html.Append("<tr data-silo=\"").Append(E(s.Name)).Append("\" data-endpoint=\"").Append(E(s.Endpoint))
                .Append("\" data-status=\"").Append(E(s.Status)).Append("\"><td>").Append(E(s.Name))
                .Append(s.IsThisSilo ? " <span class=\"muted\">(this silo)</span>" : "").Append("</td>")
                .Append("<td class=\"status\"><span class=\"badge s-").Append(E(s.Status)).Append("\">").Append(E(s.Status)).Append("</span></td>")
                .Append("<td>").Append(E(s.Endpoint)).Append("</td>")
                .Append("<td class=\"num\">").Append(alive ? Duration(now.UtcDateTime - s.StartedUtc) : "<span class=\"muted\">last seen " + Duration(now.UtcDateTime - s.IAmAliveUtc) + " ago</span>").Append("</td>")
                .Append("<td class=\"num leads\">").Append(N(s.PartitionsLed)).Append("</td>")
                .Append("<td class=\"num\">").Append(N(s.ReplicasHeld)).Append("</td>")
                .Append("<td class=\"num\">").Append(Bytes(s.Report?.LogBytes)).Append("</td>")
                .Append("<td class=\"num\">").Append(Bytes(s.Report?.HeapBytes))
                .Append(s.Report is { HeapLimitBytes: > 0 } r ? $" <span class=\"muted\">of {Bytes(r.HeapLimitBytes)}</span>" : "").Append("</td>")
                .Append("<td class=\"num\">").Append(Bytes(s.Report?.WorkingSetBytes)).Append("</td>")
                .Append("<td>").Append(s.IsController ? "<b>controller</b>" : "").Append("</td></tr>");
        }

        html.Append("</tbody></table></div>");
        html.Append("<p class=\"muted\">Status is the silo's entry in the cluster's membership table: Joining, Active, ShuttingDown (leaving in order), Dead (declared dead by its peers or gone). A restarted silo has one row per start.</p>");
        return html.ToString();
    }

    private static string Card(string value, string label, string? id = null, string? cls = null) =>
        $"<div class=\"card\"{(id is null ? "" : $" id=\"{id}\"")}><b{(cls is null ? "" : $" class=\"{cls}\"")}>{value}</b><span>{E(label)}</span></div>";

    public static string Live(string src, string content) => $"<div data-live=\"{E(src)}\">{content}</div>";

    // ---------------------------------------------------------------- Topics

    public static string TopicList(IReadOnlyList<TopicView> topics)
    {
        var html = new StringBuilder();
        html.Append("<div class=\"scroll\"><table id=\"topics\"><thead><tr><th>Topic</th><th class=\"num\">Partitions</th><th class=\"num\">Replication</th>")
            .Append("<th class=\"num\">Messages</th><th class=\"num\">Size</th><th class=\"num\" title=\"").Append(InTitle).Append("\">In</th>")
            .Append("<th class=\"num\" title=\"").Append(OutTitle).Append("\">Out</th><th class=\"num\" title=\"").Append(FetchedTitle).Append("\">Fetched</th>")
            .Append("<th class=\"num\">Under-replicated</th><th class=\"num\">Offline</th></tr></thead><tbody>");
        foreach (var t in topics)
        {
            html.Append("<tr data-topic=\"").Append(E(t.Name)).Append("\" class=\"").Append(t.Offline > 0 ? "offline" : t.UnderReplicated > 0 ? "under" : "").Append("\">")
                .Append("<td><a href=\"/console/topics/").Append(U(t.Name)).Append("\">").Append(E(t.Name)).Append("</a></td>")
                .Append("<td class=\"num\">").Append(N(t.Partitions.Count)).Append("</td>")
                .Append("<td class=\"num\">").Append(N(t.ReplicationFactor)).Append("</td>")
                .Append("<td class=\"num\">").Append(N(t.Messages)).Append("</td>")
                .Append("<td class=\"num\">").Append(Bytes(t.SizeBytes)).Append("</td>")
                .Append("<td class=\"num in\">").Append(Rate(t.InPerSecond)).Append("</td>")
                .Append("<td class=\"num out\">").Append(Rate(t.OutPerSecond)).Append("</td>")
                .Append("<td class=\"num fetched\">").Append(t.Fetched is { } fetched ? N(fetched) : "–").Append("</td>")
                .Append("<td class=\"num").Append(t.UnderReplicated > 0 ? " warn" : "").Append("\">").Append(N(t.UnderReplicated)).Append("</td>")
                .Append("<td class=\"num").Append(t.Offline > 0 ? " bad" : "").Append("\">").Append(N(t.Offline)).Append("</td></tr>");
        }

        if (topics.Count == 0)
        {
            html.Append("<tr><td colspan=\"10\" class=\"muted\">No topics yet.</td></tr>");
        }

        html.Append("</tbody></table></div>");
        html.Append("<p class=\"muted\">In: records appended per second (the partitions' end offsets). Out: records sent to Kafka consumers per second ")
            .Append("in fetch responses, summed over the silos (whole batches; followers' replication not counted). Fetched: those records in all ")
            .Append("since the silos started. Rates are over the last sample interval.</p>");
        return html.ToString();
    }

    private const string InTitle = "Records appended per second over the last sample (partition end offsets)";
    private const string OutTitle = "Records sent to Kafka consumers per second in fetch responses over the last sample, summed over the silos";
    private const string FetchedTitle = "Records sent to Kafka consumers in fetch responses since the silos started";

    public static string CreateTopicForm(bool allowed) => $$"""
        <h2>Create a topic</h2>
        <form method="post" action="/console/topics" id="create-topic">
          <label>Name<input name="name" required maxlength="249" pattern="[a-zA-Z0-9._\-]+"></label>
          <label>Partitions<input name="partitions" type="number" min="1" max="10000" placeholder="silo default"></label>
          <label>Replication factor<input name="replicationFactor" type="number" min="1" max="100" placeholder="silo default"></label>
          <label>Configs (key=value, one a line)<textarea name="configs" placeholder="retention.ms=86400000"></textarea></label>
          <button type="submit">Create</button>{{ReadOnlyHint(allowed)}}
        </form>
        """;

    private static string ReadOnlyHint(bool allowed) =>
        allowed ? "" : $"<span class=\"muted\">read-only: set {ConsoleOptions.AllowChangesSetting}=true on the silo to allow</span>";

    public static string TopicDetail(TopicView t)
    {
        var html = new StringBuilder();
        html.Append("<div class=\"cards\">").Append(Card(N(t.Partitions.Count), "partitions")).Append(Card(N(t.ReplicationFactor), "replication factor"))
            .Append(Card(N(t.Messages), "messages")).Append(Card(Bytes(t.SizeBytes), "size (leaders' copies)"))
            .Append(Card(Rate(t.InPerSecond), "in (appended)", "in-rate")).Append(Card(Rate(t.OutPerSecond), "out (fetched by consumers)", "out-rate"))
            .Append(Card(t.Fetched is { } fetched ? N(fetched) : "–", "fetched since the silos started", "fetched"))
            .Append(Card(N(t.UnderReplicated), "under-replicated", cls: t.UnderReplicated > 0 ? "warn" : null))
            .Append(Card(N(t.Offline), "offline", cls: t.Offline > 0 ? "bad" : null)).Append("</div>");
        html.Append("<div class=\"scroll\"><table id=\"partitions\"><thead><tr><th class=\"num\">Partition</th><th>Leader</th><th>Replicas</th><th>In sync</th><th></th>")
            .Append("<th class=\"num\">Log start</th><th class=\"num\">Log end</th><th class=\"num\">Size</th><th class=\"num\">In</th><th></th></tr></thead><tbody>");
        foreach (var p in t.Partitions)
        {
            var state = p.Offline ? "offline" : p.UnderReplicated ? "under" : "";
            html.Append("<tr data-partition=\"").Append(N(p.Partition)).Append("\" class=\"").Append(state).Append("\">")
                .Append("<td class=\"num\">").Append(N(p.Partition)).Append("</td>")
                .Append("<td>").Append(p.Leader is null ? "<span class=\"bad\">none</span>" : E(p.Leader)).Append("</td>")
                .Append("<td>").Append(E(string.Join(", ", p.Replicas))).Append("</td>")
                .Append("<td>").Append(E(string.Join(", ", p.Isr))).Append("</td>")
                .Append("<td>").Append(p.Offline ? "<span class=\"badge bad\">offline</span>" : p.UnderReplicated ? "<span class=\"badge warn\">under-replicated</span>" : "").Append("</td>")
                .Append("<td class=\"num\">").Append(Offset(p.LogStartOffset)).Append("</td>")
                .Append("<td class=\"num\">").Append(Offset(p.LogEndOffset)).Append("</td>")
                .Append("<td class=\"num\">").Append(Bytes(p.SizeBytes)).Append("</td>")
                .Append("<td class=\"num\">").Append(Rate(p.InPerSecond)).Append("</td>")
                .Append("<td><a href=\"/console/messages?topic=").Append(U(t.Name)).Append("&partition=").Append(N(p.Partition)).Append("\">messages</a></td></tr>");
        }

        html.Append("</tbody></table></div>");
        html.Append("<h2>Configs</h2><div class=\"scroll\"><table id=\"configs\"><thead><tr><th>Name</th><th>Value</th></tr></thead><tbody>");
        foreach (var (name, value) in t.Configs.OrderBy(c => c.Key, StringComparer.Ordinal))
        {
            html.Append("<tr><td>").Append(E(name)).Append("</td><td>").Append(E(value)).Append("</td></tr>");
        }

        if (t.Configs.Count == 0)
        {
            html.Append("<tr><td colspan=\"2\" class=\"muted\">No overrides: the silo's defaults apply.</td></tr>");
        }

        html.Append("</tbody></table></div><p class=\"muted\">Topic id ").Append(E(t.TopicId.ToString())).Append(". Only configs set on the topic are listed; the rest are the silo's defaults.</p>");
        return html.ToString();
    }

    public static string TopicForms(TopicView t, bool allowed) => $$"""
        <h2>Add partitions</h2>
        <form method="post" action="/console/topics/{{U(t.Name)}}/partitions" id="add-partitions">
          <label>New total partition count<input name="count" type="number" min="{{t.Partitions.Count + 1}}" value="{{t.Partitions.Count + 1}}" required></label>
          <button type="submit">Add partitions</button>{{ReadOnlyHint(allowed)}}
        </form>
        <h2>Delete the topic</h2>
        <form method="post" action="/console/topics/{{U(t.Name)}}/delete" class="danger" id="delete-topic">
          <label>Type the topic's name to confirm<input name="confirm" autocomplete="off" required></label>
          <button type="submit" class="danger">Delete {{E(t.Name)}} and its data</button>{{ReadOnlyHint(allowed)}}
        </form>
        """;

    // ---------------------------------------------------------------- Consumer groups

    public static string GroupList(IReadOnlyList<GroupRow> groups)
    {
        var html = new StringBuilder();
        html.Append("<div class=\"scroll\"><table id=\"groups\"><thead><tr><th>Group</th><th>Type</th><th>State</th><th class=\"num\">Members</th>")
            .Append("<th class=\"num\">Partitions</th><th class=\"num\">Total lag</th></tr></thead><tbody>");
        foreach (var g in groups)
        {
            html.Append("<tr data-group=\"").Append(E(g.GroupId)).Append("\"><td><a href=\"/console/groups/").Append(U(g.GroupId)).Append("\">").Append(E(g.GroupId)).Append("</a></td>")
                .Append("<td>").Append(E(g.Type)).Append("</td><td>").Append(E(g.Error ?? g.State)).Append("</td>")
                .Append("<td class=\"num\">").Append(N(g.Members)).Append("</td><td class=\"num\">").Append(N(g.Partitions)).Append("</td>")
                .Append("<td class=\"num lag\">").Append(N(g.TotalLag)).Append("</td></tr>");
        }

        if (groups.Count == 0)
        {
            html.Append("<tr><td colspan=\"6\" class=\"muted\">No consumer groups yet.</td></tr>");
        }

        html.Append("</tbody></table></div>");
        return html.ToString();
    }

    /// <summary>What a member owns: a consumer-protocol member's partitions as the grain keeps them, a classic member's
    /// decoded from the assignment its leader relayed (empty when it is not the consumer protocol's layout).</summary>
    public static TopicPartition[] Assignment(GroupMemberDescription member) =>
        member.Assigned.Length > 0 ? member.Assigned : ClassicAssignment.TryDecode(member.Assignment);

    public static string GroupDetail(ConsumerGroupDescription g, LagSample[] history, ConsoleOptions options, DateTimeOffset now)
    {
        var total = ConsoleData.TotalLag(g);
        var owner = new Dictionary<TopicPartition, string>();
        foreach (var member in g.Members)
        {
            foreach (var tp in Assignment(member))
            {
                owner[tp] = member.MemberId;
            }
        }

        var html = new StringBuilder();
        html.Append("<div class=\"cards\">")
            .Append($"<div class=\"card\"><b id=\"total-lag\">{N(total)}</b><span>total lag</span></div>")
            .Append($"<div class=\"card\"><b id=\"group-state\">{E(g.KafkaState)}</b><span>state</span></div>")
            .Append($"<div class=\"card\"><b id=\"member-count\">{N(g.Members.Length)}</b><span>members</span></div>")
            .Append(Card(E(g.GroupType), "type")).Append(Card(E(g.Protocol.Length > 0 ? g.Protocol : g.Assignor.Length > 0 ? g.Assignor : "–"), "assignor"))
            .Append(Card(N(g.GroupEpoch), "epoch")).Append("</div>");
        html.Append("<h2>Lag, last ").Append(E(Duration(options.History))).Append("</h2>").Append(LagChart(history, options, now));
        html.Append("<h2>Partitions</h2><div class=\"scroll\"><table id=\"offsets\"><thead><tr><th>Topic</th><th class=\"num\">Partition</th>")
            .Append("<th class=\"num\">Committed</th><th class=\"num\">Log end</th><th class=\"num\">Lag</th><th>Member</th></tr></thead><tbody>");
        foreach (var o in g.Offsets.OrderBy(o => o.TopicPartition))
        {
            html.Append("<tr data-tp=\"").Append(E(o.TopicPartition.ToString())).Append("\"><td>").Append(E(o.TopicPartition.Topic)).Append("</td>")
                .Append("<td class=\"num\">").Append(N(o.TopicPartition.Partition)).Append("</td>")
                .Append("<td class=\"num committed\">").Append(Offset(o.CommittedOffset)).Append("</td>")
                .Append("<td class=\"num end\">").Append(Offset(o.LogEndOffset)).Append("</td>")
                .Append("<td class=\"num lag\">").Append(o.Lag < 0 ? "–" : o.Lag.ToString(CultureInfo.InvariantCulture)).Append("</td>")
                .Append("<td>").Append(E(o.MemberId ?? owner.GetValueOrDefault(o.TopicPartition) ?? "")).Append("</td></tr>");
        }

        if (g.Offsets.Length == 0)
        {
            html.Append("<tr><td colspan=\"6\" class=\"muted\">No committed offsets or assignments.</td></tr>");
        }

        html.Append("</tbody></table></div>");
        html.Append("<h2>Members</h2><div class=\"scroll\"><table id=\"members\"><thead><tr><th>Member</th><th>Client</th><th>Host</th><th>Subscribed</th><th>Assigned</th></tr></thead><tbody>");
        foreach (var m in g.Members)
        {
            html.Append("<tr><td>").Append(E(m.MemberId)).Append(m.InstanceId is null ? "" : $" <span class=\"muted\">({E(m.InstanceId)})</span>").Append("</td>")
                .Append("<td>").Append(E(m.ClientId)).Append("</td><td>").Append(E(m.ClientHost)).Append("</td>")
                .Append("<td>").Append(E(string.Join(", ", m.SubscribedTopics))).Append("</td>")
                .Append("<td>").Append(E(string.Join(", ", Assignment(m).Order().Select(p => p.ToString())))).Append("</td></tr>");
        }

        if (g.Members.Length == 0)
        {
            html.Append("<tr><td colspan=\"5\" class=\"muted\">No active members.</td></tr>");
        }

        html.Append("</tbody></table></div>");
        return html.ToString();
    }

    /// <summary>The group's total lag over the history window as an inline SVG line.</summary>
    public static string LagChart(LagSample[] samples, ConsoleOptions options, DateTimeOffset now)
    {
        const int width = 720, height = 180, left = 56, right = 8, top = 10, bottom = 24;
        var from = now - options.History;
        var shown = samples.Where(s => s.At >= from).ToArray();
        if (shown.Length == 0)
        {
            return $"<div class=\"chart\" id=\"lag-chart\"><p class=\"muted\">No lag samples yet: the silo samples every {E(Duration(options.SampleInterval))}.</p></div>";
        }

        // The x axis spans the samples held (up to the whole window), so a young silo's few samples are not a sliver.
        from = shown[0].At < now - TimeSpan.FromSeconds(1) ? shown[0].At : now - TimeSpan.FromSeconds(1);
        var span = now - from;
        var max = Math.Max(1, shown.Max(s => s.TotalLag));
        double X(DateTimeOffset at) => left + (width - left - right) * ((at - from).TotalMilliseconds / span.TotalMilliseconds);
        double Y(long lag) => top + (height - top - bottom) * (1 - (double)lag / max);
        var points = string.Join(' ', shown.Select(s => string.Create(CultureInfo.InvariantCulture, $"{X(s.At):0.#},{Y(s.TotalLag):0.#}")));
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<div class=\"chart\" id=\"lag-chart\" data-samples=\"{shown.Length}\"><svg viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"Total lag over the last {E(Duration(options.History))}; now {shown[^1].TotalLag}\">")
            .Append(CultureInfo.InvariantCulture, $"<line x1=\"{left}\" y1=\"{height - bottom}\" x2=\"{width - right}\" y2=\"{height - bottom}\" stroke=\"currentColor\" stroke-opacity=\".3\"/>")
            .Append(CultureInfo.InvariantCulture, $"<line x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{height - bottom}\" stroke=\"currentColor\" stroke-opacity=\".3\"/>")
            .Append(CultureInfo.InvariantCulture, $"<text x=\"{left - 6}\" y=\"{top + 10}\" text-anchor=\"end\" font-size=\"11\" fill=\"currentColor\">{N(max)}</text>")
            .Append(CultureInfo.InvariantCulture, $"<text x=\"{left - 6}\" y=\"{height - bottom}\" text-anchor=\"end\" font-size=\"11\" fill=\"currentColor\">0</text>")
            .Append(CultureInfo.InvariantCulture, $"<text x=\"{left}\" y=\"{height - 6}\" font-size=\"11\" fill=\"currentColor\">{E(Duration(span))} ago</text>")
            .Append(CultureInfo.InvariantCulture, $"<text x=\"{width - right}\" y=\"{height - 6}\" text-anchor=\"end\" font-size=\"11\" fill=\"currentColor\">now</text>")
            .Append("<polyline fill=\"none\" stroke=\"#2457c5\" stroke-width=\"2\" points=\"").Append(points).Append("\"/>");
        var last = shown[^1];
        svg.Append(CultureInfo.InvariantCulture, $"<circle cx=\"{X(last.At):0.#}\" cy=\"{Y(last.TotalLag):0.#}\" r=\"3\" fill=\"#2457c5\"/></svg></div>");
        return svg.ToString();
    }

    public static string ResetForm(string groupId, bool allowed, ResetInput? input = null) => $$"""
        <h2>Reset offsets</h2>
        <form method="post" action="/console/groups/{{U(groupId)}}/reset" id="reset-offsets">
          <label>Mode<select name="mode">{{string.Concat(ResetInput.Modes.Select(m => $"<option value=\"{m}\"{(input?.Mode == m ? " selected" : "")}>{m}</option>"))}}</select></label>
          <label>Value (offset, shift, date-time or ISO-8601 duration)<input name="value" value="{{E(input?.Value)}}" placeholder="e.g. 42, -10, 2024-01-31T12:00:00Z, PT10M"></label>
          <label>Topics (topic or topic:0,1; blank: every partition with an offset)<input name="topics" value="{{E(input?.Topics)}}"></label>
          <button type="submit" name="execute" value="false">Dry run</button>{{ReadOnlyHint(allowed)}}
        </form>
        <p class="muted">A reset is planned first (dry run) and applied only from the plan; it is refused while the group has members, as with <code>actors consumer-groups --reset-offsets</code>.</p>
        """;

    public static string ResetPlan(string groupId, ResetInput input, OffsetResetPlanEntry[] plan, bool executed)
    {
        var html = new StringBuilder();
        html.Append(Notice("ok", executed
            ? $"Offsets of group '{groupId}' were reset ({plan.Length} partitions)."
            : $"Dry run: nothing changed yet. {plan.Length} partitions would move as below."));
        html.Append("<div class=\"scroll\"><table id=\"reset-plan\"><thead><tr><th>Partition</th><th class=\"num\">Current</th><th class=\"num\">New</th></tr></thead><tbody>");
        foreach (var p in plan.OrderBy(p => p.TopicPartition))
        {
            html.Append("<tr><td>").Append(E(p.TopicPartition.ToString())).Append("</td><td class=\"num\">").Append(Offset(p.CurrentOffset))
                .Append("</td><td class=\"num\">").Append(Offset(p.NewOffset)).Append("</td></tr>");
        }

        html.Append("</tbody></table></div>");
        if (!executed)
        {
            html.Append("<form method=\"post\" action=\"/console/groups/").Append(U(groupId)).Append("/reset\" id=\"execute-reset\">")
                .Append("<input type=\"hidden\" name=\"mode\" value=\"").Append(E(input.Mode)).Append("\">")
                .Append("<input type=\"hidden\" name=\"value\" value=\"").Append(E(input.Value)).Append("\">")
                .Append("<input type=\"hidden\" name=\"topics\" value=\"").Append(E(input.Topics)).Append("\">")
                .Append("<button type=\"submit\" name=\"execute\" value=\"true\" class=\"danger\">Execute this reset</button></form>");
        }

        return html.ToString();
    }

    // ---------------------------------------------------------------- Messages

    public static string MessagesForm(IReadOnlyList<string> topics, string? topic, int partition, string? offset, string? time, string format, int limit) => $$"""
        <form method="get" action="/console/messages" id="browse">
          <label>Topic<select name="topic">{{string.Concat(topics.Select(t => $"<option{(t == topic ? " selected" : "")}>{E(t)}</option>"))}}</select></label>
          <label>Partition<input name="partition" type="number" min="0" value="{{partition}}"></label>
          <label>From offset (blank: the last {{limit}})<input name="offset" type="number" min="0" value="{{E(offset)}}"></label>
          <label>or from time (UTC)<input name="time" type="datetime-local" step="1" value="{{E(time)}}"></label>
          <label>Show as<select name="format">{{string.Concat(RecordDecoding.Formats.Select(f => $"<option{(f == format ? " selected" : "")}>{f}</option>"))}}</select></label>
          <label>Records<input name="limit" type="number" min="1" max="{{ConsoleOptions.MaxBrowseRecords}}" value="{{limit}}"></label>
          <button type="submit">Show</button>
        </form>
        """;

    public static string Records(BrowseView view, string format)
    {
        var html = new StringBuilder();
        html.Append("<p class=\"muted\" id=\"browse-range\">").Append(E($"{view.Topic}-{view.Partition}: log {view.LogStartOffset}–{view.HighWatermark}, showing {view.Records.Count} from offset {view.From}.")).Append("</p>");
        foreach (var note in view.Notes)
        {
            html.Append("<div class=\"notice error\">").Append(E(note)).Append("</div>");
        }

        html.Append("<div class=\"scroll\"><table id=\"records\"><thead><tr><th class=\"num\">Offset</th><th>Timestamp</th><th>Key</th><th>Value</th><th>Headers</th></tr></thead><tbody>");
        foreach (var r in view.Records)
        {
            html.Append("<tr data-offset=\"").Append(r.Offset.ToString(CultureInfo.InvariantCulture)).Append("\"><td class=\"num\">").Append(r.Offset.ToString(CultureInfo.InvariantCulture)).Append("</td>")
                .Append("<td>").Append(r.Timestamp >= 0 ? E(Time(DateTimeOffset.FromUnixTimeMilliseconds(r.Timestamp))) : "–").Append("</td>")
                .Append("<td class=\"key\"><pre>").Append(E(RecordDecoding.Render(r.Key, format))).Append("</pre></td>")
                .Append("<td class=\"value\"><pre>").Append(E(RecordDecoding.Render(r.Value, format))).Append("</pre></td><td><pre>");
            foreach (var h in r.Headers)
            {
                html.Append(E(h.Key)).Append(": ").Append(E(RecordDecoding.Render(h.Value, format))).Append('\n');
            }

            html.Append("</pre></td></tr>");
        }

        if (view.Records.Count == 0)
        {
            html.Append("<tr><td colspan=\"5\" class=\"muted\">No records in this range.</td></tr>");
        }

        html.Append("</tbody></table></div>");
        if (view.Next < view.HighWatermark)
        {
            html.Append("<p><a id=\"next-page\" href=\"/console/messages?topic=").Append(U(view.Topic)).Append("&partition=").Append(N(view.Partition))
                .Append("&offset=").Append(view.Next.ToString(CultureInfo.InvariantCulture)).Append("&format=").Append(U(format)).Append("&limit=")
                .Append(N(Math.Max(1, view.Records.Count))).Append("\">Next records from offset ").Append(view.Next.ToString(CultureInfo.InvariantCulture)).Append(" →</a></p>");
        }

        return html.ToString();
    }

    public static string ProduceForm(IReadOnlyList<string> topics, string? topic, bool allowed) => $$"""
        <h2>Produce a test message</h2>
        <form method="post" action="/console/messages/produce" id="produce">
          <label>Topic<select name="topic">{{string.Concat(topics.Select(t => $"<option{(t == topic ? " selected" : "")}>{E(t)}</option>"))}}</select></label>
          <label>Partition (blank: by key, else 0)<input name="partition" type="number" min="0"></label>
          <label>Key<input name="key"></label>
          <label>Value<textarea name="value"></textarea></label>
          <label>Headers (key=value, one a line)<textarea name="headers"></textarea></label>
          <button type="submit">Produce</button>{{ReadOnlyHint(allowed)}}
        </form>
        """;
}

/// <summary>What the reset form sent, kept to fill the form and the execute step again.</summary>
internal sealed record ResetInput(string Mode, string Value, string Topics)
{
    public static readonly string[] Modes = ["to-earliest", "to-latest", "to-current", "to-offset", "shift-by", "to-datetime", "by-duration"];

    /// <summary>The grain's request for this input.</summary>
    /// <exception cref="ConsoleException">A mode, value or topic list that does not parse, naming the field.</exception>
    public ResetOffsetsRequest ToRequest(bool execute, DateTimeOffset now)
    {
        var request = new ResetOffsetsRequest { Execute = execute };
        request.Mode = Mode switch
        {
            "to-earliest" => OffsetResetMode.ToEarliest,
            "to-latest" => OffsetResetMode.ToLatest,
            "to-current" => OffsetResetMode.ToCurrent,
            "to-offset" => OffsetResetMode.ToOffset,
            "shift-by" => OffsetResetMode.ShiftBy,
            "to-datetime" => OffsetResetMode.ToDatetime,
            "by-duration" => OffsetResetMode.ByDuration,
            _ => throw new ConsoleException($"Mode '{Mode}' is not one of {string.Join(", ", Modes)}."),
        };
        var value = Value.Trim();
        switch (request.Mode)
        {
            case OffsetResetMode.ToOffset or OffsetResetMode.ShiftBy:
                request.Value = long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) ? n
                    : throw new ConsoleException($"Value '{Value}' is not a whole number; {Mode} needs one.");
                break;
            case OffsetResetMode.ToDatetime:
                request.Value = DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) ? at.ToUnixTimeMilliseconds()
                    : throw new ConsoleException($"Value '{Value}' is not a date-time; to-datetime needs one like 2024-01-31T12:00:00Z (UTC unless an offset is given).");
                break;
            case OffsetResetMode.ByDuration:
                try
                {
                    request.Value = (long)System.Xml.XmlConvert.ToTimeSpan(value).TotalMilliseconds;
                }
                catch (FormatException)
                {
                    throw new ConsoleException($"Value '{Value}' is not an ISO-8601 duration; by-duration needs one like PT10M or P1DT2H.");
                }

                break;
        }

        var partitions = new List<TopicPartition>();
        var topics = new List<string>();
        foreach (var spec in Topics.Split([' ', '\n', '\r', '\t', ';'], StringSplitOptions.RemoveEmptyEntries))
        {
            var colon = spec.IndexOf(':', StringComparison.Ordinal);
            if (colon < 0)
            {
                topics.Add(spec);
                continue;
            }

            foreach (var p in spec[(colon + 1)..].Split(',', StringSplitOptions.RemoveEmptyEntries))
            {
                partitions.Add(int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out var partition)
                    ? new TopicPartition(spec[..colon], partition)
                    : throw new ConsoleException($"Topics: '{spec}' has partition '{p}', which is not a number; write topic:0,1."));
            }
        }

        if (topics.Count > 0 && partitions.Count > 0)
        {
            throw new ConsoleException("Topics: give whole topics or topic:partitions, not both in one reset.");
        }

        request.Topics = topics.Count > 0 ? [.. topics] : null;
        request.Partitions = partitions.Count > 0 ? [.. partitions] : null;
        return request;
    }
}
