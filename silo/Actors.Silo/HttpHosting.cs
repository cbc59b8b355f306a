using System.Globalization;
using System.Net;
using Actors.WebConsole;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans;
using Orleans.Runtime;

namespace Actors.Silo;

/// <summary>
/// The silo's HTTP port (<c>--http-port</c>, "Actors:Http:Port", default 8080; 0 turns it off): Kestrel in a web host of
/// its own, started once the silo is Active and stopped before it leaves, serving the web console
/// (<see cref="ConsoleEndpoints.MapActorsConsole"/>) from the silo's own grain factory.
/// </summary>
internal static class HttpHosting
{
    /// <summary>The port when none is configured.</summary>
    public const int DefaultPort = 8080;

    /// <summary>Registers the HTTP host with the silo's host; does nothing when the port is 0.</summary>
    /// <exception cref="ArgumentException">A port that is not a number from 0 to 65535, naming the setting.</exception>
    public static void AddHttpHosting(HostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var text = builder.Configuration["Actors:Http:Port"];
        var port = DefaultPort;
        if (!string.IsNullOrWhiteSpace(text)
            && (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out port) || port > IPEndPoint.MaxPort))
        {
            throw new ArgumentException($"Actors:Http:Port (--http-port) '{text}' must be a port from 0 to 65535 (0 turns the HTTP port off).");
        }

        if (port == 0)
        {
            return;
        }

        var console = builder.Configuration.GetSection(ConsoleOptions.ConfigurationSection);
        var probe = new ConsoleOptions();
        try
        {
            console.Bind(probe);
        }
        catch (InvalidOperationException e)
        {
            throw new ArgumentException($"{ConsoleOptions.ConfigurationSection}: {e.Message} ({e.InnerException?.Message}).", e);
        }

        probe.Validate();
        builder.Services.AddSingleton<IHostedService>(sp => new HttpHost(sp, port, console));
    }

    /// <summary>The web host, built on start from the silo's services it needs.</summary>
    private sealed class HttpHost(IServiceProvider silo, int port, IConfiguration console) : IHostedService, IAsyncDisposable
    {
        private WebApplication? web;

        public async Task StartAsync(CancellationToken cancellationToken)
        {
            var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
            // The web host logs its own warnings and errors to the console; requests are not logged.
            builder.Logging.ClearProviders();
            builder.Logging.AddConsole();
            builder.Logging.SetMinimumLevel(LogLevel.Warning);
            builder.Services.AddSingleton(silo.GetRequiredService<IGrainFactory>());
            builder.Services.AddSingleton(silo.GetRequiredService<ILocalSiloDetails>());
            builder.Services.AddActorsConsole(o => console.Bind(o));
            builder.WebHost.UseKestrel(k => k.ListenAnyIP(port));
            web = builder.Build();
            web.MapActorsConsole();
            try
            {
                await web.StartAsync(cancellationToken);
            }
            catch (IOException e)
            {
                throw new InvalidOperationException($"The HTTP port {port} cannot be opened ({e.Message}). Pass a free one with --http-port, or --http-port 0 to turn it off.", e);
            }

            SiloLogHttp.Listening(silo.GetRequiredService<ILoggerFactory>().CreateLogger("Actors.Silo"), port);
        }

        public async Task StopAsync(CancellationToken cancellationToken)
        {
            if (web is not null)
            {
                await web.StopAsync(cancellationToken);
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (web is not null)
            {
                await web.DisposeAsync();
            }
        }
    }
}

internal static partial class SiloLogHttp
{
    [LoggerMessage(EventId = 20, Level = LogLevel.Information, Message = "HTTP port {Port}: the console is at /console/")]
    public static partial void Listening(ILogger logger, int port);
}
