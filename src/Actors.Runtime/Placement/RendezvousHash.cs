using System.Collections.Immutable;
using Actors.Membership;

namespace Actors.Placement;

/// <summary>
/// Rendezvous (highest-random-weight) hashing: a grain goes to the silo with the highest
/// <c>mix(hash(grain) ^ hash(silo endpoint) ^ salt)</c>. Every process computes the same answer from the
/// same silo list (FNV-1a 64 over UTF-16 code units, then a SplitMix64 finalizer; no
/// <see cref="string.GetHashCode()"/>). Removing a silo moves only that silo's grains. The endpoint
/// (not the generation) is hashed, so statically configured peers (generation 0) agree with the table view.
/// </summary>
internal static class RendezvousHash
{
    /// <summary>Salt for choosing a grain's home silo.</summary>
    public const ulong PlacementSalt = 0x9E3779B97F4A7C15;

    /// <summary>Salt for choosing a grain's directory owner.</summary>
    public const ulong DirectorySalt = 0xC2B2AE3D27D4EB4F;

    public static SiloAddress? Pick(GrainId grainId, ImmutableArray<SiloAddress> silos, ulong salt)
    {
        if (silos.IsDefaultOrEmpty)
        {
            return null;
        }

        var grainHash = Fnv(grainId.Type, Fnv(grainId.Key, 0xcbf29ce484222325UL ^ 0x2F));
        SiloAddress? best = null;
        ulong bestScore = 0;
        foreach (var silo in silos)
        {
            var score = Mix(grainHash ^ Mix(Fnv(silo.Endpoint, 0xcbf29ce484222325UL)) ^ salt);
            if (best is null || score > bestScore || (score == bestScore && string.CompareOrdinal(silo.Endpoint, best.Endpoint) < 0))
            {
                best = silo;
                bestScore = score;
            }
        }

        return best;
    }

    private static ulong Fnv(string text, ulong hash)
    {
        foreach (var c in text)
        {
            hash ^= c;
            hash *= 0x100000001b3UL;
        }

        return hash;
    }

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9UL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebUL;
        return z ^ (z >> 31);
    }
}
