namespace Actors.Silo;

/// <summary>Process-wide settings for a process whose job is to be a silo (the silo executable, benchmarks that run
/// silos), applied at the top of <c>Main</c> before any socket exists.</summary>
internal static class SiloProcess
{
    /// <summary>The runtime's switch for running socket completions on the socket event threads.</summary>
    public const string InlineSocketCompletionsVariable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    /// <summary>
    /// Runs socket completions inline on the socket event threads instead of handing each one to a pool thread.
    /// Orleans' connection loops hand received messages to its own schedulers and never block in a socket
    /// continuation, so the hop buys nothing and costs a thread wake-up per read and write (deploy/README.md has
    /// the figures). A silo that hosts code which blocks in a socket continuation can set the variable to 0 before
    /// start; a value already set is left alone. No effect once the first socket operation of the process has run.
    /// </summary>
    public static void UseInlineSocketCompletions()
    {
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable(InlineSocketCompletionsVariable)))
        {
            Environment.SetEnvironmentVariable(InlineSocketCompletionsVariable, "1");
        }
    }
}
