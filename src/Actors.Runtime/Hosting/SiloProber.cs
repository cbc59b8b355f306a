using Actors.Membership;
using Actors.Networking;

namespace Actors.Hosting;

/// <summary>
/// <see cref="ISiloProber"/> over the silo-to-silo connection: a ping frame answered by a pong. False on
/// timeout, on a refused connection, or when another incarnation answers on the target's endpoint
/// (the handshake checks the generation).
/// </summary>
internal sealed class SiloProber(SiloConnectionManager connections) : ISiloProber
{
    public async Task<bool> ProbeAsync(SiloAddress target, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        try
        {
            var connection = await connections.GetConnectionAsync(target).AsTask().WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
            return await connection.PingAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception)
        {
            return false;
        }
    }
}
