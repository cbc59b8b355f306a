using Actors.Configuration;
using Microsoft.Extensions.Options;

namespace Actors.Membership;

/// <summary>The local silo's identity, fixed at start: the generation is the start time in Unix
/// milliseconds (made strictly increasing within one process, where tests start several silos).</summary>
internal sealed class LocalSiloDetails : ILocalSiloDetails
{
    private static long lastGeneration;

    public LocalSiloDetails(IOptions<SiloOptions> options, TimeProvider timeProvider)
    {
        var silo = options.Value;
        var now = timeProvider.GetUtcNow().ToUnixTimeMilliseconds();
        long generation;
        long previous;
        do
        {
            previous = Interlocked.Read(ref lastGeneration);
            generation = Math.Max(now, previous + 1);
        }
        while (Interlocked.CompareExchange(ref lastGeneration, generation, previous) != previous);

        SiloAddress = new SiloAddress(silo.AdvertisedHost, silo.SiloPort, generation);
        Name = silo.Name;
        GatewayPort = silo.GatewayPort;
    }

    public SiloAddress SiloAddress { get; }

    public string Name { get; }

    public int GatewayPort { get; }
}
