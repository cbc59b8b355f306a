using Actors.Membership;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Actors.Hosting;

/// <summary>Stops the local silo at once (membership found it Dead): aborts the silo, then stops the host.</summary>
internal sealed partial class SiloTerminator(IServiceProvider services, ILogger<SiloTerminator> logger) : ISiloTerminator
{
    public void TerminateSelf(string reason)
    {
        Log.Terminating(logger, reason);
        services.GetRequiredService<Silo>().Abort(reason);
        services.GetService<IHostApplicationLifetime>()?.StopApplication();
    }

    private static partial class Log
    {
        [LoggerMessage(4101, LogLevel.Critical, "Terminating this silo: {Reason}")]
        public static partial void Terminating(ILogger logger, string reason);
    }
}
