namespace Actors.Membership;

/// <summary>
/// Holds the current <see cref="ClusterMembershipSnapshot"/> and publishes only successors: a
/// snapshot whose version is not greater than the held one is rejected.
/// </summary>
/// <remarks>Thread-safe. <see cref="Current"/> is read without locks. Publication and the
/// <see cref="Changed"/> event run under one lock, so handlers see versions in increasing order
/// and must not block.</remarks>
internal sealed class MembershipSnapshotPublisher
{
    private readonly Lock gate = new();
    private readonly Action<Exception>? onHandlerError;
    private ClusterMembershipSnapshot current = ClusterMembershipSnapshot.Empty;

    /// <param name="onHandlerError">Told about an exception thrown by a <see cref="Changed"/> handler;
    /// the other handlers still run.</param>
    public MembershipSnapshotPublisher(Action<Exception>? onHandlerError = null) => this.onHandlerError = onHandlerError;

    public ClusterMembershipSnapshot Current => Volatile.Read(ref current);

    public event Action<ClusterMembershipSnapshot>? Changed;

    /// <summary>Publishes <paramref name="proposed"/> if it is the successor of the current snapshot.</summary>
    /// <returns>True if published; false if rejected as not newer.</returns>
    public bool TryPublish(ClusterMembershipSnapshot proposed)
    {
        ArgumentNullException.ThrowIfNull(proposed);
        lock (gate)
        {
            if (!proposed.IsSuccessorTo(current))
            {
                return false;
            }

            Volatile.Write(ref current, proposed);
            if (Changed is { } handlers)
            {
                foreach (var handler in handlers.GetInvocationList().Cast<Action<ClusterMembershipSnapshot>>())
                {
                    try
                    {
                        handler(proposed);
                    }
                    catch (Exception ex)
                    {
                        onHandlerError?.Invoke(ex);
                    }
                }
            }

            return true;
        }
    }
}
