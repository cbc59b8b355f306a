using System.Net;
using System.Text.Json;
using Actors.Kafka.Listener;
using Actors.Kafka.Security;
using Actors.WebConsole;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;
using Orleans.Runtime;

namespace Actors.Silo;

/// <summary>
/// The silo's HTTP port (<c>http.port</c>, default 8080, every interface): <c>/health</c> answers 200 with a JSON
/// status while the silo is Active in cluster membership and its Kafka listener accepts connections, 503 otherwise
/// (with the reason: not Active, the listener down, or shutting down); <c>/metrics</c> is the Prometheus text of every "Actors.*" meter and .NET's "System.Runtime" meter (heap, GC, CPU, thread pool; OpenTelemetry's Prometheus exporter);
/// <c>/console/</c> is the web console (<see cref="ConsoleEndpoints.MapActorsConsole"/>), served from the silo's own
/// grain factory. With <c>http.auth=sasl</c> (the default when the Kafka listener uses SASL) every path but
/// <c>/health</c> needs HTTP Basic authentication with a user of the cluster's SASL users (<see cref="HttpAuthentication"/>).
/// </summary>
/// <remarks>A small Kestrel app of its own beside the silo's host, started by the silo's host after the silo (so a
/// port in use fails the silo's start with a message naming http.port). It outlives the silo's shutdown: when the
/// host begins to stop (SIGTERM), <c>/health</c> turns 503 "shutting down" at once, while leadership moves away and
/// the silo leaves membership, and the port closes only once every other service has stopped, so a load balancer
/// or a supervisor sees the silo go out of service instead of a refused connection.</remarks>
internal sealed partial class SiloHttpEndpoint(int port, HttpAuthMode auth, IServiceProvider silo, ILogger<SiloHttpEndpoint> logger) : IHostedLifecycleService, IAsyncDisposable
{
    private WebApplication? app;
    private volatile bool stopping;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Any, port));
        builder.Services.AddOpenTelemetry().WithMetrics(m => m.AddMeter("Actors.*", "System.Runtime").AddPrometheusExporter());
        builder.Services.AddSingleton(silo.GetRequiredService<IGrainFactory>());
        builder.Services.AddSingleton(silo.GetRequiredService<ILocalSiloDetails>());
        // The Kafka listener's authorizer: the console decides and logs as the Kafka port does (authorizer.class.name).
        builder.Services.AddSingleton(silo.GetService<AclAuthorizer>() ?? AclAuthorizer.Disabled);
        var console = silo.GetRequiredService<IConfiguration>().GetSection(ConsoleOptions.ConfigurationSection);
        builder.Services.AddActorsConsole(o => console.Bind(o));
        var web = builder.Build();
        if (auth == HttpAuthMode.Sasl)
        {
            var authentication = new HttpAuthentication(silo.GetRequiredService<IGrainFactory>(), silo.GetRequiredService<ILogger<HttpAuthentication>>());
            web.Use(authentication.InvokeAsync);
        }

        web.MapPrometheusScrapingEndpoint("/metrics");
        web.MapGet("/health", Health);
        web.MapActorsConsole();
        try
        {
            await web.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (IOException e)
        {
            await web.DisposeAsync().ConfigureAwait(false);
            throw new InvalidOperationException($"The HTTP port {port} (/health, /metrics, /console/) cannot be bound ({e.Message}); set http.port (--http-port) to a free port, or none.", e);
        }

        app = web;
        LogListening(logger, port, auth == HttpAuthMode.Sasl ? "HTTP Basic with the cluster's SASL users (http.auth=sasl)" : "none (http.auth=none)");
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>The host begins to stop: /health answers 503 from now on.</summary>
    public Task StoppingAsync(CancellationToken cancellationToken)
    {
        stopping = true;
        return Task.CompletedTask;
    }

    /// <summary>Nothing yet: the port stays open while the silo shuts down (<see cref="StoppedAsync"/> closes it).</summary>
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Every service has stopped (the silo has left membership): the port closes.</summary>
    public async Task StoppedAsync(CancellationToken cancellationToken)
    {
        if (app is not null)
        {
            await app.StopAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (app is not null)
        {
            await app.DisposeAsync().ConfigureAwait(false);
        }
    }

    private IResult Health()
    {
        var details = silo.GetRequiredService<ILocalSiloDetails>();
        var membership = silo.GetRequiredService<IClusterMembershipService>();
        var status = membership.CurrentSnapshot.GetSiloStatus(details.SiloAddress);
        var kafka = silo.GetService<KafkaListener>();
        var kafkaUp = kafka is { Listening: true };
        var healthy = status == SiloStatus.Active && kafkaUp && !stopping;
        var reason = stopping ? "the silo is shutting down"
            : status != SiloStatus.Active ? $"the silo is {status} in cluster membership, not Active"
            : !kafkaUp ? "the Kafka listener is not accepting connections"
            : null;
        var body = new HealthStatus(
            healthy ? "ok" : "unavailable",
            details.Name,
            status.ToString(),
            kafkaUp ? string.Join(",", kafka!.LocalEndpoints) : "down",
            reason);
        return Results.Text(JsonSerializer.Serialize(body, HealthJson.Default.HealthStatus), "application/json", statusCode: healthy ? 200 : 503);
    }

    /// <summary>Checks the console's settings before the silo starts.</summary>
    /// <exception cref="ArgumentException">A console setting does not parse or is out of range; the message names it.</exception>
    public static void ValidateConsole(IConfiguration configuration)
    {
        var probe = new ConsoleOptions();
        try
        {
            configuration.GetSection(ConsoleOptions.ConfigurationSection).Bind(probe);
        }
        catch (InvalidOperationException e)
        {
            throw new ArgumentException($"{ConsoleOptions.ConfigurationSection}: {e.Message} ({e.InnerException?.Message}).", e);
        }

        probe.Validate();
    }

    [LoggerMessage(EventId = 20, Level = LogLevel.Information, Message = "HTTP on port {Port}: /health, /metrics and the console at /console/; authentication: {Authentication}")]
    private static partial void LogListening(ILogger logger, int port, string authentication);
}

/// <summary>The body of <c>/health</c>.</summary>
/// <param name="Status">"ok" (HTTP 200) or "unavailable" (503).</param>
/// <param name="Silo">The silo's name.</param>
/// <param name="Membership">The silo's status in cluster membership (Active when it serves).</param>
/// <param name="Kafka">The Kafka listeners' bound endpoints (comma-separated), or "down".</param>
/// <param name="Reason">Why the silo is not serving (null while it is).</param>
internal sealed record HealthStatus(string Status, string Silo, string Membership, string Kafka, string? Reason);

[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.CamelCase)]
[System.Text.Json.Serialization.JsonSerializable(typeof(HealthStatus))]
internal sealed partial class HealthJson : System.Text.Json.Serialization.JsonSerializerContext;
