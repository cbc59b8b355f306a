using System.Collections.Concurrent;
using Actors.Catalog;
using Actors.Configuration;
using Actors.GrainDirectory;
using Actors.Invocation;
using Actors.Messaging;
using Actors.Networking;
using Microsoft.Extensions.Options;

namespace Actors.Runtime;

/// <summary>
/// Delivers calls made on a silo (by grains, or by a gateway for its clients): to the local activation
/// when the grain lives here (arguments handed over when immutable, else deep-copied), otherwise over
/// the connection to the silo the directory names. A "not here" answer invalidates the cached location
/// and the call is retried once.
/// </summary>
/// <remarks>Thread-safe. Local calls are swept for the response timeout like remote ones.</remarks>
internal sealed class SiloCallRuntime : IGrainCallRuntime
{
    private readonly ActivationCatalog catalog;
    private readonly LocalGrainDirectory directory;
    private readonly SiloConnectionManager connections;
    private readonly TimeProvider timeProvider;
    private readonly ConcurrentDictionary<long, LocalCallWorkItem> localCalls = new();
    private long nextLocalCallId;

    public SiloCallRuntime(ActivationCatalog catalog, LocalGrainDirectory directory, SiloConnectionManager connections,
        GrainTypeResolver types, IOptions<MessagingOptions> options, TimeProvider timeProvider)
    {
        this.catalog = catalog;
        this.directory = directory;
        this.connections = connections;
        this.timeProvider = timeProvider;
        ResponseTimeout = options.Value.ResponseTimeout;
        GrainFactory = new GrainFactory(this, types);
        catalog.GrainFactory = GrainFactory;
    }

    public IGrainFactory GrainFactory { get; }

    public TimeSpan ResponseTimeout { get; }

    public ValueTask InvokeAsync(GrainReference target, GrainInvokable call) => InvokeCoreAsync(target.GrainId, call, owned: false);

    public void InvokeOneWay(GrainReference target, GrainInvokable call) => _ = SendOneWayAsync(target.GrainId, call, owned: false);

    /// <summary>Routes a call. <paramref name="owned"/> means the invokable was just deserialized
    /// (a gateway forwarding a client's call), so it need not be copied for a local delivery.</summary>
    public async ValueTask InvokeCoreAsync(GrainId grainId, GrainInvokable call, bool owned)
    {
        try
        {
            for (var attempt = 0; ; attempt++)
            {
                if (await TryInvokeOnceAsync(grainId, call, owned).ConfigureAwait(false))
                {
                    return;
                }

                if (attempt > 0)
                {
                    throw new SiloUnavailableException(
                        $"The call {call.InterfaceName}.{call.MethodName} on grain {grainId} found no activation after looking the grain up twice.");
                }
            }
        }
        catch (Exception) when (!owned)
        {
            // Counted once, by the caller; a gateway forwarding a client's call leaves it to the client.
            Diagnostics.RuntimeMetrics.CallsFailed.Add(1);
            throw;
        }
    }

    private async ValueTask<bool> TryInvokeOnceAsync(GrainId grainId, GrainInvokable call, bool owned)
    {
        if (catalog.TryGetActivation(grainId, out var local))
        {
            return await InvokeLocalAsync(local, call, owned).ConfigureAwait(false);
        }

        var silo = await directory.ResolveAsync(grainId).ConfigureAwait(false);
        if (directory.IsLocal(silo))
        {
            if (await InvokeLocalAsync(catalog.GetOrCreateActivation(grainId), call, owned).ConfigureAwait(false))
            {
                return true;
            }

            directory.Invalidate(grainId, silo);
            return false;
        }

        Diagnostics.RuntimeMetrics.CallsSent.Add(1);
        var pending = await connections.SendAsync(silo, (grainId, call, ResponseTimeout),
            static (connection, s) => connection.SendRequest(s.grainId, s.call, s.ResponseTimeout)).ConfigureAwait(false);
        await pending.AsValueTask().ConfigureAwait(false);
        if (!pending.NotHere)
        {
            return true;
        }

        directory.Invalidate(grainId, silo);
        return false;
    }

    /// <summary>Sends a one-way call; errors are dropped (the caller does not wait).</summary>
    public async Task SendOneWayAsync(GrainId grainId, GrainInvokable call, bool owned)
    {
        try
        {
            if (catalog.TryGetActivation(grainId, out var local))
            {
                local.Enqueue(new OneWayLocalWorkItem(owned || call.ArgumentsAreImmutable ? call : CallCodec.CopyArguments(call, this)));
                return;
            }

            var silo = await directory.ResolveAsync(grainId).ConfigureAwait(false);
            if (directory.IsLocal(silo))
            {
                catalog.GetOrCreateActivation(grainId).Enqueue(new OneWayLocalWorkItem(owned || call.ArgumentsAreImmutable ? call : CallCodec.CopyArguments(call, this)));
                return;
            }

            var connection = await connections.GetConnectionAsync(silo).ConfigureAwait(false);
            Diagnostics.RuntimeMetrics.CallsSent.Add(1);
            connection.SendOneWay(grainId, call, ResponseTimeout);
        }
        catch (Exception)
        {
            Diagnostics.RuntimeMetrics.CallsFailed.Add(1);
        }
    }

    /// <summary>Fails local calls past the response timeout.</summary>
    public void ExpireLocalCalls()
    {
        var now = timeProvider.GetTimestamp();
        foreach (var item in localCalls.Values)
        {
            if (item.DeadlineTimestamp <= now && localCalls.TryRemove(item.Id, out _))
            {
                item.Complete(new GrainCallTimeoutException(
                    $"The call {item.Call.InterfaceName}.{item.Call.MethodName} on grain {item.GrainId} got no response within " +
                    $"{ResponseTimeout} (MessagingOptions.ResponseTimeout)."));
            }
        }
    }

    /// <summary>Delivers to a local activation. False when the activation went away before the call ran.</summary>
    private async ValueTask<bool> InvokeLocalAsync(ActivationData activation, GrainInvokable call, bool owned)
    {
        Diagnostics.RuntimeMetrics.CallsLocal.Add(1);
        var delivered = owned || call.ArgumentsAreImmutable ? call : CallCodec.CopyArguments(call, this);
        var deadline = timeProvider.GetTimestamp() + (long)(ResponseTimeout.TotalSeconds * timeProvider.TimestampFrequency);
        var item = new LocalCallWorkItem(delivered, deadline) { Id = Interlocked.Increment(ref nextLocalCallId), GrainId = activation.GrainId };
        localCalls[item.Id] = item;
        if (call.AcceptsCancellation && call.CancellationToken.CanBeCanceled)
        {
            item.Cancellation = call.CancellationToken.UnsafeRegister(
                static (s, token) => ((LocalCallWorkItem)s!).Complete(new OperationCanceledException("The caller cancelled the call.", token)), item);
        }

        try
        {
            activation.Enqueue(item);
            await item.AsValueTask().ConfigureAwait(false);
        }
        catch (ActivationGoneException)
        {
            return false;
        }
        finally
        {
            localCalls.TryRemove(item.Id, out _);
        }

        CallCodec.CopyResult(delivered, call, this);
        return true;
    }
}

/// <summary>A one-way call delivered inside the silo.</summary>
internal sealed class OneWayLocalWorkItem(GrainInvokable call) : ActivationWorkItem
{
    public override InvokeFlags Flags => call.Flags;

    public override ValueTask ExecuteAsync(object grain) => call.InvokeAsync(grain);

    public override void Complete(Exception? error)
    {
    }
}
