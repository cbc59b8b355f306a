using System.Collections.Concurrent;
using Actors.Catalog;
using Actors.Configuration;
using Actors.Membership;
using Actors.Messaging;
using Actors.Networking;
using Actors.Placement;
using Actors.Serialization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Actors.GrainDirectory;

/// <summary>
/// The distributed grain directory, as seen from one silo. Each grain has a directory owner, chosen by
/// rendezvous hashing over the Active silos; the owner records where the grain's activation lives and
/// chooses its placement when it has none. Silos cache lookups.
/// </summary>
/// <remarks>
/// On every membership change: cache entries and owned entries on Dead silos are dropped (those grains
/// are re-activated at their next call); owned entries whose owner changed are dropped, and each silo
/// re-registers its local activations with their (possibly new) owner. A re-registration that finds a
/// live entry on another silo deactivates the local duplicate. Between a view change and the end of
/// re-registration two activations of one grain may briefly coexist; correctness that matters (the
/// log) rests on conditional writes, not on single activation. Silo-pinned grains bypass the directory.
/// Thread-safe.
/// </remarks>
internal sealed partial class LocalGrainDirectory
{
    private readonly ConcurrentDictionary<GrainId, SiloAddress> cache = new();
    private readonly DirectoryPartition partition = new();
    private readonly IClusterMembershipService membership;
    private readonly SiloConnectionManager connections;
    private readonly ActivationCatalog catalog;
    private readonly PlacementService placement;
    private readonly ILocalSiloDetails localSilo;
    private readonly MessagingOptions options;
    private readonly ILogger<LocalGrainDirectory> logger;
    private ClusterMembershipSnapshot lastView = ClusterMembershipSnapshot.Empty;

    public LocalGrainDirectory(IClusterMembershipService membership, SiloConnectionManager connections, ActivationCatalog catalog,
        PlacementService placement, ILocalSiloDetails localSilo, IOptions<MessagingOptions> options, ILogger<LocalGrainDirectory> logger)
    {
        this.membership = membership;
        this.connections = connections;
        this.catalog = catalog;
        this.placement = placement;
        this.localSilo = localSilo;
        this.options = options.Value;
        this.logger = logger;
        catalog.ActivationEnded += OnActivationEnded;
    }

    private SiloAddress Local => localSilo.SiloAddress;

    public int OwnedEntryCount => partition.Count;

    /// <summary>True when <paramref name="silo"/> is this silo (a static peer's generation 0 matches any).</summary>
    public bool IsLocal(SiloAddress silo) => SiloIdentity.Matches(silo, Local);

    /// <summary>Where the grain's activation is (or will be): the cache, else its directory owner.</summary>
    public async ValueTask<SiloAddress> ResolveAsync(GrainId grainId)
    {
        if (cache.TryGetValue(grainId, out var cached))
        {
            return cached;
        }

        var view = membership.CurrentSnapshot;
        if (placement.IsSiloPinned(grainId))
        {
            return PlacementService.PickPinned(grainId, view);
        }

        var owner = OwnerOf(grainId, view);
        SiloAddress silo;
        if (IsLocal(owner))
        {
            silo = await LookupOrPlaceLocallyAsync(grainId, view).ConfigureAwait(false);
        }
        else
        {
            SiloAddress? answer = null;
            SystemResponseReader read = (ref ActorReader r) => answer = SiloAddress.Parse(r.ReadString());
            var pending = await connections.SendAsync(owner, (grainId, read, options.ResponseTimeout),
                static (connection, s) => connection.SendSystemRequest(SystemOperation.DirectoryLookupOrPlace, s.grainId, s.grainId,
                    static (ref ActorWriter w, GrainId g) => WriteGrainId(ref w, g), s.read, s.ResponseTimeout)).ConfigureAwait(false);
            await pending.AsValueTask().ConfigureAwait(false);
            silo = answer!;
        }

        // The answer may predate a membership change that made the silo Dead (and already swept the cache): a dead
        // location is never kept, or every later call would go to the dead silo until the next view change.
        cache[grainId] = silo;
        if (!DirectoryPartition.IsLive(silo, membership.CurrentSnapshot))
        {
            cache.TryRemove(new KeyValuePair<GrainId, SiloAddress>(grainId, silo));
        }

        return silo;
    }

    /// <summary>Forgets a cached location that turned out wrong.</summary>
    public void Invalidate(GrainId grainId, SiloAddress silo) =>
        cache.TryRemove(new KeyValuePair<GrainId, SiloAddress>(grainId, silo));

    /// <summary>Whether an incoming call for a grain without a local activation should activate it here.</summary>
    public async ValueTask<bool> ShouldActivateHereAsync(GrainId grainId)
    {
        if (placement.IsSiloPinned(grainId))
        {
            return IsLocal(PlacementService.PickPinned(grainId, membership.CurrentSnapshot));
        }

        cache.TryRemove(grainId, out _);
        var silo = await ResolveAsync(grainId).ConfigureAwait(false);
        return IsLocal(silo);
    }

    /// <summary>Handles a directory system request from another silo.</summary>
    public void OnSystemRequest(Connection connection, in MessageHeader header, ref ActorReader body)
    {
        var grainId = ReadGrainId(ref body);
        var view = membership.CurrentSnapshot;
        switch (header.Operation)
        {
            case SystemOperation.DirectoryLookupOrPlace:
                _ = AnswerLookupAsync(connection, header.CorrelationId, grainId, view);
                break;
            case SystemOperation.DirectoryRegister:
                var winner = partition.Register(grainId, SiloAddress.Parse(body.ReadString()), view);
                connection.SendSystemResponse(header.CorrelationId, winner, static (ref ActorWriter w, SiloAddress s) => w.WriteString(s.ToString()));
                break;
            case SystemOperation.DirectoryUnregister:
                partition.Unregister(grainId, SiloAddress.Parse(body.ReadString()));
                connection.SendSystemResponse(header.CorrelationId, 0, static (ref ActorWriter w, int _) => { });
                break;
            default:
                connection.SendException(header.CorrelationId, new InvalidOperationException($"Unknown system operation {header.Operation}."));
                break;
        }
    }

    /// <summary>Applies a membership change (see the class remarks).</summary>
    public void OnViewChanged(ClusterMembershipSnapshot view)
    {
        var previous = Interlocked.Exchange(ref lastView, view);
        foreach (var (grainId, silo) in cache)
        {
            if (!DirectoryPartition.IsLive(silo, view))
            {
                cache.TryRemove(new KeyValuePair<GrainId, SiloAddress>(grainId, silo));
            }
        }

        partition.Prune(view, g => view.ActiveSilos.IsEmpty || IsLocal(OwnerOf(g, view)));
        if (view.ActiveSilos.IsEmpty)
        {
            return;
        }

        foreach (var grainId in catalog.GrainIds)
        {
            if (placement.IsSiloPinned(grainId))
            {
                continue;
            }

            var newOwner = OwnerOf(grainId, view);
            var oldOwner = previous.ActiveSilos.IsEmpty ? null : OwnerOf(grainId, previous);
            if (oldOwner is not null && SiloIdentity.Matches(oldOwner, newOwner) && previous.GetStatus(oldOwner) == view.GetStatus(oldOwner))
            {
                continue;
            }

            _ = ReRegisterAsync(grainId, newOwner, view);
        }
    }

    private static SiloAddress OwnerOf(GrainId grainId, ClusterMembershipSnapshot view) =>
        RendezvousHash.Pick(grainId, view.ActiveSilos, RendezvousHash.DirectorySalt)
        ?? throw new SiloUnavailableException($"No Active silo owns the directory entry of {grainId} (membership: {view}).");

    private async ValueTask<SiloAddress> LookupOrPlaceLocallyAsync(GrainId grainId, ClusterMembershipSnapshot view)
    {
        if (partition.TryLookup(grainId, view, out var existing))
        {
            return existing;
        }

        var chosen = await placement.PickSiloAsync(grainId, view, Local).ConfigureAwait(false);
        return partition.Register(grainId, chosen, view);
    }

    private async Task AnswerLookupAsync(Connection connection, long correlationId, GrainId grainId, ClusterMembershipSnapshot view)
    {
        try
        {
            var silo = await LookupOrPlaceLocallyAsync(grainId, view).ConfigureAwait(false);
            connection.SendSystemResponse(correlationId, silo, static (ref ActorWriter w, SiloAddress s) => w.WriteString(s.ToString()));
        }
        catch (Exception exception)
        {
            connection.SendException(correlationId, exception);
        }
    }

    private async Task ReRegisterAsync(GrainId grainId, SiloAddress owner, ClusterMembershipSnapshot view)
    {
        try
        {
            SiloAddress winner;
            if (IsLocal(owner))
            {
                winner = partition.Register(grainId, Local, view);
            }
            else
            {
                SiloAddress? answer = null;
                SystemResponseReader read = (ref ActorReader r) => answer = SiloAddress.Parse(r.ReadString());
                var pending = await connections.SendAsync(owner, (grainId, Local, read, options.ResponseTimeout),
                    static (connection, s) => connection.SendSystemRequest(SystemOperation.DirectoryRegister, s.grainId, (s.grainId, s.Local),
                        static (ref ActorWriter w, (GrainId G, SiloAddress S) x) =>
                        {
                            WriteGrainId(ref w, x.G);
                            w.WriteString(x.S.ToString());
                        },
                        s.read, s.ResponseTimeout)).ConfigureAwait(false);
                await pending.AsValueTask().ConfigureAwait(false);
                winner = answer!;
            }

            if (!IsLocal(winner) && catalog.TryGetActivation(grainId, out var duplicate))
            {
                Log.DuplicateActivation(logger, grainId, winner);
                duplicate.Deactivate(new DeactivationReason(DeactivationReasonCode.ApplicationRequested,
                    $"Another activation of {grainId} is registered on {winner}."));
            }
        }
        catch (Exception exception)
        {
            Log.ReRegisterFailed(logger, exception, grainId, owner);
        }
    }

    private void OnActivationEnded(GrainId grainId)
    {
        cache.TryRemove(grainId, out _);
        if (placement.IsSiloPinned(grainId))
        {
            return;
        }

        var view = membership.CurrentSnapshot;
        if (view.ActiveSilos.IsEmpty)
        {
            return;
        }

        var owner = OwnerOf(grainId, view);
        if (IsLocal(owner))
        {
            partition.Unregister(grainId, Local);
            return;
        }

        _ = UnregisterRemoteAsync(grainId, owner);
    }

    private async Task UnregisterRemoteAsync(GrainId grainId, SiloAddress owner)
    {
        try
        {
            var pending = await connections.SendAsync(owner, (grainId, Local, options.ResponseTimeout),
                static (connection, s) => connection.SendSystemRequest(SystemOperation.DirectoryUnregister, s.grainId, (s.grainId, s.Local),
                    static (ref ActorWriter w, (GrainId G, SiloAddress S) x) =>
                    {
                        WriteGrainId(ref w, x.G);
                        w.WriteString(x.S.ToString());
                    },
                    static (ref ActorReader r) => { },
                    s.ResponseTimeout)).ConfigureAwait(false);
            await pending.AsValueTask().ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            Log.UnregisterFailed(logger, exception, grainId, owner);
        }
    }

    private static void WriteGrainId(ref ActorWriter writer, GrainId grainId)
    {
        writer.WriteString(grainId.Type);
        writer.WriteString(grainId.Key);
    }

    private static GrainId ReadGrainId(ref ActorReader reader)
    {
        var type = reader.ReadString();
        return new GrainId(type, reader.ReadString());
    }

    private static partial class Log
    {
        [LoggerMessage(3001, LogLevel.Information, "Deactivating a duplicate activation of {GrainId}; the directory names {Winner}")]
        public static partial void DuplicateActivation(ILogger logger, GrainId grainId, SiloAddress winner);

        [LoggerMessage(3002, LogLevel.Debug, "Re-registering {GrainId} with its directory owner {Owner} failed")]
        public static partial void ReRegisterFailed(ILogger logger, Exception exception, GrainId grainId, SiloAddress owner);

        [LoggerMessage(3003, LogLevel.Debug, "Unregistering {GrainId} from its directory owner {Owner} failed")]
        public static partial void UnregisterFailed(ILogger logger, Exception exception, GrainId grainId, SiloAddress owner);
    }
}
