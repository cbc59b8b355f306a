using System.Globalization;
using Actors.Broker;
using Actors.Log.Records;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Actors.Kafka.Security;
using Microsoft.Extensions.Hosting;
using static Actors.WebConsole.Html;

namespace Actors.WebConsole;

/// <summary><c>services.AddActorsConsole(...)</c> and <c>endpoints.MapActorsConsole()</c>.</summary>
public static class ConsoleEndpoints
{
    /// <summary>Adds the console's services: the data reader and the lag sampler (a hosted service). Needs an
    /// <see cref="IGrainFactory"/> and the silo's <see cref="ILocalSiloDetails"/> in the same container.</summary>
    public static IServiceCollection AddActorsConsole(this IServiceCollection services, Action<ConsoleOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<ConsoleOptions>()
            .Configure(o => configure?.Invoke(o))
            .Validate(o =>
            {
                o.Validate();
                return true;
            })
            .ValidateOnStart();
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<ConsoleSampler>();
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<ConsoleSampler>());
        services.AddSingleton<ConsoleData>();
        // The silo's Kafka authorizer when the host registered it (the silo does); otherwise no ACL checks.
        services.TryAddSingleton(AclAuthorizer.Disabled);
        return services;
    }

    /// <summary>Adds, to the silo's own services, the count of records its Kafka listener serves per topic
    /// (<see cref="TopicTraffic"/>), which the silo's report gives the console for messages/s out.</summary>
    public static IServiceCollection AddActorsConsoleTraffic(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton<TopicTraffic>();
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<TopicTraffic>());
        return services;
    }

    /// <summary>Adds the console's services with options bound from <paramref name="configuration"/>'s
    /// "Actors:Console" section (AllowChanges, SampleInterval, History, RefreshInterval, MaxSampledGroups, MaxSampledPartitions).</summary>
    public static IServiceCollection AddActorsConsole(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var section = configuration.GetSection(ConsoleOptions.ConfigurationSection);
        return services.AddActorsConsole(o => section.Bind(o));
    }

    /// <summary>Maps the console's pages under /console (and / to the Cluster page).</summary>
    public static IEndpointRouteBuilder MapActorsConsole(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.MapGet("/", () => Results.Redirect("/console/cluster"));
        // One route serves /console and /console/: routing ignores a trailing slash, and two routes for them made
        // every request to either fail as ambiguous (HTTP 500).
        endpoints.MapGet("/console", () => Results.Redirect("/console/cluster"));

        // Pages: a full page whose live part is refreshed from the matching fragment.
        endpoints.MapGet("/console/cluster", (HttpContext context, ConsoleData data, CancellationToken ct) => Render(context, data, "Cluster", "Cluster", async access =>
            "<h1>Cluster</h1>" + Pages.Live("/console/fragments/cluster", Pages.Cluster(await data.ClusterAsync(access, ct)))));
        endpoints.MapGet("/console/topics", (HttpContext context, ConsoleData data, CancellationToken ct) => Render(context, data, "Topics", "Topics", async access =>
            "<h1>Topics</h1>" + Pages.Live("/console/fragments/topics", Pages.TopicList(await data.TopicsAsync(null, access, ct))) + Pages.CreateTopicForm(data.Options.AllowChanges)));
        endpoints.MapGet("/console/topics/{name}", (string name, HttpContext context, ConsoleData data, CancellationToken ct) => Render(context, data, name, "Topics", async access =>
        {
            var topic = (await data.TopicsAsync(name, access, ct))[0];
            return TopicPage(topic, data, null);
        }));
        endpoints.MapGet("/console/groups", (HttpContext context, ConsoleData data, CancellationToken ct) => Render(context, data, "Consumer groups", "Consumer groups", async access =>
            "<h1>Consumer groups</h1>" + Pages.Live("/console/fragments/groups", Pages.GroupList(await data.GroupsAsync(access, ct)))));
        endpoints.MapGet("/console/groups/{id}", (string id, HttpContext context, ConsoleData data, CancellationToken ct) => Render(context, data, id, "Consumer groups", async access =>
            GroupPage(id, data, await data.GroupAsync(id, access, ct), null, null)));
        endpoints.MapGet("/console/messages", (HttpContext context, ConsoleData data, CancellationToken ct) => Render(context, data, "Messages", "Messages", access =>
            MessagesPageAsync(context.Request, data, access, null, ct)));

        // Fragments the pages poll.
        endpoints.MapGet("/console/fragments/cluster", (HttpContext context, ConsoleData data, CancellationToken ct) => Fragment(context, data, async access =>
            Pages.Cluster(await data.ClusterAsync(access, ct))));
        endpoints.MapGet("/console/fragments/topics", (HttpContext context, ConsoleData data, CancellationToken ct) => Fragment(context, data, async access =>
            Pages.TopicList(await data.TopicsAsync(null, access, ct))));
        endpoints.MapGet("/console/fragments/topics/{name}", (string name, HttpContext context, ConsoleData data, CancellationToken ct) => Fragment(context, data, async access =>
            Pages.TopicDetail((await data.TopicsAsync(name, access, ct))[0])));
        endpoints.MapGet("/console/fragments/groups", (HttpContext context, ConsoleData data, CancellationToken ct) => Fragment(context, data, async access =>
            Pages.GroupList(await data.GroupsAsync(access, ct))));
        endpoints.MapGet("/console/fragments/groups/{id}", (string id, HttpContext context, ConsoleData data, CancellationToken ct) => Fragment(context, data, async access =>
            Pages.GroupDetail(await data.GroupAsync(id, access, ct), data.Sampler.History(id), data.Options, DateTimeOffset.UtcNow)));

        // The same figures as JSON, for scripts and tools.
        endpoints.MapGet("/console/api/cluster", async (HttpContext context, ConsoleData data, CancellationToken ct) =>
            Results.Json(await data.ClusterAsync(await data.AccessAsync(context), ct)));
        endpoints.MapGet("/console/api/topics", async (HttpContext context, ConsoleData data, CancellationToken ct) =>
            Results.Json(await data.TopicsAsync(null, await data.AccessAsync(context), ct)));
        endpoints.MapGet("/console/api/groups", async (HttpContext context, ConsoleData data, CancellationToken ct) =>
            Results.Json(await data.GroupsAsync(await data.AccessAsync(context), ct)));
        endpoints.MapGet("/console/api/groups/{id}", async (string id, HttpContext context, ConsoleData data, CancellationToken ct) =>
        {
            try
            {
                var group = await data.GroupAsync(id, await data.AccessAsync(context), ct);
                return Results.Json(new { Group = group, TotalLag = ConsoleData.TotalLag(group), History = data.Sampler.History(id) });
            }
            catch (ConsoleRefusedException e)
            {
                return Results.Json(new { Error = e.Message }, statusCode: StatusCodes.Status403Forbidden);
            }
            catch (ConsoleException e)
            {
                return Results.NotFound(new { Error = e.Message });
            }
        });

        // Changes: refused unless console.allow.changes=true, and only from the console's own pages.
        endpoints.MapPost("/console/topics", (HttpContext context, ConsoleData data) => Change(context, data, "Topics", "Topics", async (form, access, ct) =>
        {
            var name = form["name"].ToString().Trim();
            var partitions = OptionalInt(form["partitions"], "Partitions") ?? -1;
            var replication = OptionalInt(form["replicationFactor"], "Replication factor") ?? -1;
            var configs = KeyValues(form["configs"], "Configs");
            try
            {
                var created = await data.CreateTopicAsync(name, partitions, (short)Math.Clamp(replication, -1, short.MaxValue), configs, access, ct);
                return "<h1>Topics</h1>" + Notice("ok", $"Created topic '{created.Name}' with {created.Partitions.Length} partitions, replication factor {created.ReplicationFactor}.")
                    + Pages.Live("/console/fragments/topics", Pages.TopicList(await data.TopicsAsync(null, access, ct))) + Pages.CreateTopicForm(data.Options.AllowChanges);
            }
            catch (ConsoleException e)
            {
                return "<h1>Topics</h1>" + Notice("error", e.Message) + Pages.Live("/console/fragments/topics", Pages.TopicList(await data.TopicsAsync(null, access, ct)))
                    + Pages.CreateTopicForm(data.Options.AllowChanges);
            }
        }));
        endpoints.MapPost("/console/topics/{name}/partitions", (string name, HttpContext context, ConsoleData data) => Change(context, data, name, "Topics", async (form, access, ct) =>
        {
            var count = OptionalInt(form["count"], "New total partition count") ?? throw new ConsoleException("Give the new total partition count.");
            string message;
            try
            {
                var grown = await data.AddPartitionsAsync(name, count, access, ct);
                message = Notice("ok", $"Topic '{name}' now has {grown.Partitions.Length} partitions.");
            }
            catch (ConsoleException e)
            {
                message = Notice("error", e.Message);
            }

            return TopicPage((await data.TopicsAsync(name, access, ct))[0], data, message);
        }));
        endpoints.MapPost("/console/topics/{name}/delete", (string name, HttpContext context, ConsoleData data) => Change(context, data, name, "Topics", async (form, access, ct) =>
        {
            try
            {
                await data.DeleteTopicAsync(name, form["confirm"].ToString().Trim(), access, ct);
                return "<h1>Topics</h1>" + Notice("ok", $"Deleted topic '{name}'.") + Pages.Live("/console/fragments/topics", Pages.TopicList(await data.TopicsAsync(null, access, ct)))
                    + Pages.CreateTopicForm(data.Options.AllowChanges);
            }
            catch (ConsoleException e)
            {
                return TopicPage((await data.TopicsAsync(name, access, ct))[0], data, Notice("error", e.Message));
            }
        }));
        endpoints.MapPost("/console/groups/{id}/reset", (string id, HttpContext context, ConsoleData data) => Change(context, data, id, "Consumer groups", async (form, access, ct) =>
        {
            var input = new ResetInput(form["mode"].ToString(), form["value"].ToString(), form["topics"].ToString());
            var execute = string.Equals(form["execute"].ToString(), "true", StringComparison.OrdinalIgnoreCase);
            string result;
            try
            {
                var plan = await data.ResetAsync(id, input.ToRequest(execute, DateTimeOffset.UtcNow), access, ct);
                result = Pages.ResetPlan(id, input, plan, execute);
            }
            catch (ConsoleException e)
            {
                result = Notice("error", e.Message);
            }

            return GroupPage(id, data, await data.GroupAsync(id, access, ct), result, input);
        }, readOnlyAllowed: true));
        endpoints.MapPost("/console/messages/produce", (HttpContext context, ConsoleData data) => Change(context, data, "Messages", "Messages", async (form, access, ct) =>
        {
            var topic = form["topic"].ToString();
            string message;
            try
            {
                var partition = OptionalInt(form["partition"], "Partition");
                var headers = KeyValues(form["headers"], "Headers").Select(h => new RecordHeader(h.Key, System.Text.Encoding.UTF8.GetBytes(h.Value))).ToArray();
                var (p, offset) = await data.ProduceAsync(topic, partition, form["key"].ToString(), form["value"].ToString(), headers, access, ct);
                message = Notice("ok", $"Produced to {topic}-{p} at offset {offset}.");
            }
            catch (ConsoleException e)
            {
                message = Notice("error", e.Message);
            }

            return await MessagesPageAsync(context.Request, data, access, message, ct, topic);
        }));
        return endpoints;
    }

    private static string TopicPage(TopicView topic, ConsoleData data, string? message) =>
        $"<h1>Topic {E(topic.Name)}</h1>{message}" + Pages.Live($"/console/fragments/topics/{U(topic.Name)}", Pages.TopicDetail(topic))
        + Pages.TopicForms(topic, data.Options.AllowChanges);

    private static string GroupPage(string id, ConsoleData data, ConsumerGroupDescription group, string? result, ResetInput? input) =>
        $"<h1>Consumer group {E(id)}</h1>"
        + Pages.Live($"/console/fragments/groups/{U(id)}", Pages.GroupDetail(group, data.Sampler.History(id), data.Options, DateTimeOffset.UtcNow))
        + Pages.ResetForm(id, data.Options.AllowChanges, input) + (result ?? "");

    private static async Task<string> MessagesPageAsync(HttpRequest request, ConsoleData data, ConsoleAccess access, string? message, CancellationToken ct, string? topicOverride = null)
    {
        var topics = (await data.TopicsAsync(null, access, ct)).Select(t => t.Name).ToArray();
        var query = request.Query;
        var topic = topicOverride ?? (query["topic"].ToString() is { Length: > 0 } t ? t : topics.FirstOrDefault());
        var partition = OptionalInt(query["partition"], "Partition") ?? 0;
        var offsetText = query["offset"].ToString();
        var timeText = query["time"].ToString();
        var format = RecordDecoding.Formats.Contains(query["format"].ToString()) ? query["format"].ToString() : "text";
        var limit = Math.Clamp(OptionalInt(query["limit"], "Records") ?? 50, 1, ConsoleOptions.MaxBrowseRecords);
        var body = "<h1>Messages</h1>" + message + Pages.MessagesForm(topics, topic, partition, offsetText, timeText, format, limit);
        if (topic is null)
        {
            body += "<p class=\"muted\">No topics yet.</p>";
        }
        else
        {
            try
            {
                long? offset = offsetText.Length > 0
                    ? long.TryParse(offsetText, NumberStyles.None, CultureInfo.InvariantCulture, out var o) ? o : throw new ConsoleException($"From offset '{offsetText}' is not a whole number.")
                    : null;
                long? at = timeText.Length > 0
                    ? DateTimeOffset.TryParse(timeText, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var when) ? when.ToUnixTimeMilliseconds()
                        : throw new ConsoleException($"From time '{timeText}' is not a date-time; write 2024-01-31T12:00:00 (UTC).")
                    : null;
                body += Pages.Records(await data.BrowseAsync(topic, partition, offset, at, limit, access, ct), format);
            }
            catch (ConsoleException e)
            {
                body += Notice("error", e.Message);
            }
        }

        return body + Pages.ProduceForm(topics, topic, data.Options.AllowChanges);
    }

    private static async Task<IResult> Render(HttpContext context, ConsoleData data, string title, string active, Func<ConsoleAccess, Task<string>> body)
    {
        var access = await data.AccessAsync(context);
        string content;
        var status = StatusCodes.Status200OK;
        try
        {
            content = await body(access);
        }
        catch (ConsoleRefusedException e)
        {
            content = $"<h1>{E(title)}</h1>" + Notice("error", e.Message);
            status = StatusCodes.Status403Forbidden;
        }
        catch (ConsoleException e)
        {
            content = $"<h1>{E(title)}</h1>" + Notice("error", e.Message);
            status = StatusCodes.Status404NotFound;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            content = $"<h1>{E(title)}</h1>" + Notice("error", $"The cluster did not answer: {e.GetType().Name}: {e.Message}. Reload the page to try again.");
            status = StatusCodes.Status503ServiceUnavailable;
        }

        return Results.Content(Html.Page(title, active, data, access, content), "text/html; charset=utf-8", statusCode: status);
    }

    private static async Task<IResult> Fragment(HttpContext context, ConsoleData data, Func<ConsoleAccess, Task<string>> body)
    {
        try
        {
            return Results.Content(await body(await data.AccessAsync(context)), "text/html; charset=utf-8");
        }
        catch (ConsoleRefusedException e)
        {
            return Results.Content(Notice("error", e.Message), "text/html; charset=utf-8", statusCode: StatusCodes.Status403Forbidden);
        }
        catch (ConsoleException e)
        {
            return Results.Content(Notice("error", e.Message), "text/html; charset=utf-8", statusCode: StatusCodes.Status404NotFound);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return Results.Content($"{e.GetType().Name}: {e.Message}", "text/plain; charset=utf-8", statusCode: StatusCodes.Status503ServiceUnavailable);
        }
    }

    /// <summary>A POST from a console form: refused from another origin, and (unless <paramref name="readOnlyAllowed"/>,
    /// where the handler itself refuses the changing part) refused when changes are off.</summary>
    private static async Task<IResult> Change(HttpContext context, ConsoleData data, string title, string active, Func<IFormCollection, ConsoleAccess, CancellationToken, Task<string>> handle,
        bool readOnlyAllowed = false)
    {
        var origin = context.Request.Headers.Origin.ToString();
        if (origin.Length > 0 && origin != "null"
            && (!Uri.TryCreate(origin, UriKind.Absolute, out var from) || !string.Equals(from.Authority, context.Request.Host.Value, StringComparison.OrdinalIgnoreCase)))
        {
            return Results.Content(Html.Page(title, active, data, null, $"<h1>{E(title)}</h1>" + Notice("error", $"Refused: the request came from {origin}, not from this console's own pages.")),
                "text/html; charset=utf-8", statusCode: StatusCodes.Status403Forbidden);
        }

        if (!readOnlyAllowed && !data.Options.AllowChanges)
        {
            return Results.Content(Html.Page(title, active, data, null, $"<h1>{E(title)}</h1>" + Notice("error", ConsoleData.ReadOnlyMessage)),
                "text/html; charset=utf-8", statusCode: StatusCodes.Status403Forbidden);
        }

        if (!context.Request.HasFormContentType)
        {
            return Results.BadRequest("Send the console's form (application/x-www-form-urlencoded).");
        }

        var form = await context.Request.ReadFormAsync(context.RequestAborted);
        return await Render(context, data, title, active, access => handle(form, access, context.RequestAborted));
    }

    private static int? OptionalInt(Microsoft.Extensions.Primitives.StringValues value, string field)
    {
        var text = value.ToString().Trim();
        if (text.Length == 0)
        {
            return null;
        }

        return int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) ? n
            : throw new ConsoleException($"{field} '{text}' is not a whole number.");
    }

    private static Dictionary<string, string> KeyValues(Microsoft.Extensions.Primitives.StringValues value, string field)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in value.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var equals = line.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw new ConsoleException($"{field}: '{line}' is not key=value.");
            }

            result[line[..equals].Trim()] = line[(equals + 1)..].Trim();
        }

        return result;
    }
}
