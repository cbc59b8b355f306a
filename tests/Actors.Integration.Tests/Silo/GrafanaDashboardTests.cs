using System.Text.Json;
using System.Text.RegularExpressions;
using Actors.Testing;

namespace Actors.Integration.Tests.Silo;

/// <summary>deploy/grafana/actors-cluster.json: a dashboard Grafana imports (panels with a query each, on the
/// dashboard's Prometheus data source, every selector it uses defined), whose series are the ones docs/deploy.md
/// documents. <see cref="MetricsProcessTests"/> checks them against a real silo's /metrics.</summary>
public sealed partial class GrafanaDashboardTests
{
    [Fact]
    public void Every_panel_queries_the_dashboards_data_source_and_uses_only_defined_selectors()
    {
        using var dashboard = GrafanaDashboard.Load();
        var root = dashboard.RootElement;
        Assert.Equal("actors-cluster", root.GetProperty("uid").GetString());
        var variables = root.GetProperty("templating").GetProperty("list").EnumerateArray().Select(v => v.GetProperty("name").GetString()!).ToHashSet(StringComparer.Ordinal);
        Assert.Superset(new HashSet<string>(["datasource", "job", "topic", "group"], StringComparer.Ordinal), variables);

        var panels = root.GetProperty("panels").EnumerateArray().ToList();
        Assert.True(panels.Count >= 10, $"the dashboard has {panels.Count} panels");
        Assert.Equal(panels.Count, panels.Select(p => p.GetProperty("id").GetInt32()).Distinct().Count());
        foreach (var panel in panels)
        {
            var title = panel.GetProperty("title").GetString();
            Assert.Equal("${datasource}", panel.GetProperty("datasource").GetProperty("uid").GetString());
            var targets = panel.GetProperty("targets").EnumerateArray().ToList();
            Assert.True(targets.Count > 0, $"panel '{title}' has no query");
            foreach (var expression in targets.Select(t => t.GetProperty("expr").GetString()!))
            {
                foreach (Match used in Variable().Matches(expression))
                {
                    var name = used.Groups[1].Value;
                    Assert.True(name.StartsWith("__", StringComparison.Ordinal) || variables.Contains(name), $"panel '{title}' uses ${name}, which the dashboard does not define: {expression}");
                }

                Assert.Equal(expression.Count(c => c == '('), expression.Count(c => c == ')'));
                Assert.Equal(expression.Count(c => c == '{'), expression.Count(c => c == '}'));
            }
        }
    }

    [Fact]
    public void Every_series_the_dashboard_queries_is_documented_in_the_deploy_guide()
    {
        var guide = File.ReadAllText(Path.Combine(RepositoryRoot.Path, "docs", "deploy.md"));
        // The metric table's first cell names one metric or several: | `a_total`, `b_total` | counter | ...
        var documented = MetricRow().Matches(guide).SelectMany(row => Quoted().Matches(row.Groups[1].Value).Select(m => m.Groups[1].Value)).ToHashSet(StringComparer.Ordinal);
        var names = GrafanaDashboard.SeriesNames();
        Assert.Contains("actors_broker_consumer_lag", names);
        Assert.Contains("dotnet_process_memory_working_set_bytes", names);
        var undocumented = names.Select(GrafanaDashboard.MetricOf).Where(n => !documented.Contains(n)).ToList();
        Assert.True(undocumented.Count == 0, $"the dashboard queries series docs/deploy.md does not list: {string.Join(", ", undocumented)}");
    }

    [GeneratedRegex(@"\$\{?([A-Za-z_][A-Za-z0-9_]*)")]
    private static partial Regex Variable();

    [GeneratedRegex(@"^\| (`[a-z_]+`(?:, `[a-z_]+`)*) \|", RegexOptions.Multiline)]
    private static partial Regex MetricRow();

    [GeneratedRegex("`([a-z_]+)`")]
    private static partial Regex Quoted();
}

/// <summary>The dashboard file and the series names its queries use.</summary>
internal static partial class GrafanaDashboard
{
    public static readonly string FilePath = Path.Combine(RepositoryRoot.Path, "deploy", "grafana", "actors-cluster.json");

    public static JsonDocument Load() => JsonDocument.Parse(File.ReadAllText(FilePath));

    /// <summary>Every <c>actors_*</c> and <c>dotnet_*</c> series name in the panels' queries.</summary>
    public static IReadOnlySet<string> SeriesNames()
    {
        using var dashboard = Load();
        return dashboard.RootElement.GetProperty("panels").EnumerateArray()
            .SelectMany(p => p.GetProperty("targets").EnumerateArray())
            .SelectMany(t => Series().Matches(t.GetProperty("expr").GetString()!).Select(m => m.Value))
            .ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>The metric a series belongs to: a histogram's <c>_bucket</c>, <c>_count</c> and <c>_sum</c> series are one metric.</summary>
    public static string MetricOf(string series) => HistogramSuffix().Replace(series, string.Empty);

    [GeneratedRegex(@"\b(actors|dotnet)_[a-z_]+")]
    private static partial Regex Series();

    [GeneratedRegex(@"_(bucket|count|sum)$")]
    private static partial Regex HistogramSuffix();
}
