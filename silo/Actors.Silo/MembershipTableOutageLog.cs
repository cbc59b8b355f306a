using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;

namespace Actors.Silo;

/// <summary>
/// Wraps the membership table so that an outage of its storage is logged once, with what to check, when the first
/// call fails, and once more when a call succeeds again; Orleans' own messages (a warning with a stack trace at
/// every table refresh) still follow. Every call is passed through unchanged, exceptions included.
/// </summary>
internal sealed partial class MembershipTableOutageLog(IMembershipTable inner, ILogger<MembershipTableOutageLog> logger, string where) : IMembershipTable
{
    private readonly Lock gate = new();
    private DateTimeOffset? failingSince;
    private int failures;

    /// <summary>Replaces the registered <see cref="IMembershipTable"/> with this wrapper around it;
    /// <paramref name="where"/> names the table and the settings that point at it.</summary>
    public static void Decorate(IServiceCollection services, string where)
    {
        var registered = services.LastOrDefault(d => d.ServiceType == typeof(IMembershipTable) && !d.IsKeyedService)
            ?? throw new InvalidOperationException("No membership table is registered to wrap.");
        services.Remove(registered);
        services.AddSingleton<IMembershipTable>(sp =>
        {
            var table = (IMembershipTable)(registered.ImplementationInstance
                ?? registered.ImplementationFactory?.Invoke(sp)
                ?? ActivatorUtilities.CreateInstance(sp, registered.ImplementationType!));
            return new MembershipTableOutageLog(table, sp.GetRequiredService<ILogger<MembershipTableOutageLog>>(), where);
        });
    }

    public Task InitializeMembershipTableAsync(bool tryInitTableVersion, CancellationToken cancellationToken) =>
        Watch(inner.InitializeMembershipTableAsync(tryInitTableVersion, cancellationToken));

    public Task DeleteMembershipTableEntriesAsync(string clusterId, CancellationToken cancellationToken) =>
        Watch(inner.DeleteMembershipTableEntriesAsync(clusterId, cancellationToken));

    public Task CleanupDefunctSiloEntriesAsync(DateTimeOffset beforeDate, CancellationToken cancellationToken) =>
        Watch(inner.CleanupDefunctSiloEntriesAsync(beforeDate, cancellationToken));

    public Task<MembershipTableData> ReadRowAsync(SiloAddress key, CancellationToken cancellationToken) => Watch(inner.ReadRowAsync(key, cancellationToken));

    public Task<MembershipTableData> ReadAllAsync(CancellationToken cancellationToken) => Watch(inner.ReadAllAsync(cancellationToken));

    public Task<bool> InsertRowAsync(MembershipEntry entry, TableVersion tableVersion, CancellationToken cancellationToken) =>
        Watch(inner.InsertRowAsync(entry, tableVersion, cancellationToken));

    public Task<bool> UpdateRowAsync(MembershipEntry entry, string etag, TableVersion tableVersion, CancellationToken cancellationToken) =>
        Watch(inner.UpdateRowAsync(entry, etag, tableVersion, cancellationToken));

    public Task UpdateIAmAliveAsync(MembershipEntry entry, CancellationToken cancellationToken) => Watch(inner.UpdateIAmAliveAsync(entry, cancellationToken));

    // The obsolete forms (still abstract on the interface) go through the same wrapped calls.
    public Task InitializeMembershipTable(bool tryInitTableVersion) => InitializeMembershipTableAsync(tryInitTableVersion, CancellationToken.None);

    public Task DeleteMembershipTableEntries(string clusterId) => DeleteMembershipTableEntriesAsync(clusterId, CancellationToken.None);

    public Task CleanupDefunctSiloEntries(DateTimeOffset beforeDate) => CleanupDefunctSiloEntriesAsync(beforeDate, CancellationToken.None);

    public Task<MembershipTableData> ReadRow(SiloAddress key) => ReadRowAsync(key, CancellationToken.None);

    public Task<MembershipTableData> ReadAll() => ReadAllAsync(CancellationToken.None);

    public Task<bool> InsertRow(MembershipEntry entry, TableVersion tableVersion) => InsertRowAsync(entry, tableVersion, CancellationToken.None);

    public Task<bool> UpdateRow(MembershipEntry entry, string etag, TableVersion tableVersion) => UpdateRowAsync(entry, etag, tableVersion, CancellationToken.None);

    public Task UpdateIAmAlive(MembershipEntry entry) => UpdateIAmAliveAsync(entry, CancellationToken.None);

    private async Task Watch(Task call)
    {
        try
        {
            await call;
        }
        catch (Exception e) when (e is not OperationCanceledException && Failed(e))
        {
            throw;
        }

        Succeeded();
    }

    private async Task<T> Watch<T>(Task<T> call)
    {
        T result;
        try
        {
            result = await call;
        }
        catch (Exception e) when (e is not OperationCanceledException && Failed(e))
        {
            throw;
        }

        Succeeded();
        return result;
    }

    /// <summary>Counts a failure, logging the first of an outage; never catches (false).</summary>
    private bool Failed(Exception e)
    {
        bool first;
        lock (gate)
        {
            first = failingSince is null;
            failingSince ??= DateTimeOffset.UtcNow;
            failures++;
        }

        if (first)
        {
            LogUnreachable(logger, where, $"{e.GetType().Name}: {FirstLine(e.GetBaseException().Message)}");
        }

        return false;
    }

    private void Succeeded()
    {
        DateTimeOffset since;
        int failed;
        lock (gate)
        {
            if (failingSince is not { } s)
            {
                return;
            }

            (since, failed) = (s, failures);
            failingSince = null;
            failures = 0;
        }

        LogReachable(logger, where, (DateTimeOffset.UtcNow - since).TotalSeconds, failed);
    }

    private static string FirstLine(string message)
    {
        var end = message.IndexOfAny(['\r', '\n']);
        return end < 0 ? message : message[..end];
    }

    [LoggerMessage(EventId = 110, Level = LogLevel.Warning,
        Message = "The membership table ({Where}) cannot be reached: {Failure}. Check that the storage it names is running and reachable from this silo. " +
            "Until it is back this silo keeps serving the partitions it leads with its last view of the cluster, but no silo can join, leave or be declared dead. " +
            "Logged once per outage; Orleans logs each failed call.")]
    private static partial void LogUnreachable(ILogger logger, string where, string failure);

    [LoggerMessage(EventId = 111, Level = LogLevel.Information, Message = "The membership table ({Where}) is reachable again after {Seconds:0.0} s ({Failures} calls failed)")]
    private static partial void LogReachable(ILogger logger, string where, double seconds, int failures);
}
