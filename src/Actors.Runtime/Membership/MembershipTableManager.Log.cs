using Microsoft.Extensions.Logging;

namespace Actors.Membership;

/// <summary>Source-generated log messages of the membership oracle (event ids 3100-3199).</summary>
public sealed partial class MembershipTableManager
{
    [LoggerMessage(3100, LogLevel.Information, "Silo {Silo} named '{Name}' joined the membership table as Joining at table version {Version}")]
    private static partial void LogJoined(ILogger logger, string silo, string name, long version);

    [LoggerMessage(3101, LogLevel.Information, "Silo {Silo} is now {Status} in the membership table")]
    private static partial void LogStatusChanged(ILogger logger, string silo, SiloStatus status);

    [LoggerMessage(3102, LogLevel.Information, "Marked the older incarnation {Old} of this silo {Silo} Dead")]
    private static partial void LogRetiredOldIncarnation(ILogger logger, string old, string silo);

    [LoggerMessage(3103, LogLevel.Information, "Membership view v{Version}: {View}")]
    private static partial void LogViewChanged(ILogger logger, long version, string view);

    [LoggerMessage(3104, LogLevel.Debug, "Probe of {Silo} missed ({Misses} in a row, limit {Limit})")]
    private static partial void LogProbeMissed(ILogger logger, string silo, int misses, int limit);

    [LoggerMessage(3105, LogLevel.Debug, "Probe of {Silo} failed: {Reason}")]
    private static partial void LogProbeFailed(ILogger logger, string silo, string reason);

    [LoggerMessage(3106, LogLevel.Warning, "Voted silo {Silo} suspect ({Votes} of {Required} votes needed to declare it Dead)")]
    private static partial void LogVotedSuspect(ILogger logger, string silo, int votes, int required);

    [LoggerMessage(3107, LogLevel.Warning, "Declared silo {Silo} Dead with {Votes} of {Required} votes needed (voters: {Voters})")]
    private static partial void LogDeclaredDead(ILogger logger, string silo, int votes, int required, string voters);

    [LoggerMessage(3108, LogLevel.Warning, "Gave up voting on silo {Silo} after {Attempts} conditional writes lost to concurrent writers")]
    private static partial void LogVoteGaveUp(ILogger logger, string silo, int attempts);

    [LoggerMessage(3109, LogLevel.Critical, "Silo {Silo} found itself dead in the membership table: {Reason}; stopping")]
    private static partial void LogFoundMyselfDead(ILogger logger, string silo, string reason);

    [LoggerMessage(3110, LogLevel.Error, "Terminating this silo after it was declared Dead failed")]
    private static partial void LogTerminateFailed(ILogger logger, Exception exception);

    [LoggerMessage(3111, LogLevel.Error, "The membership {Loop} loop failed; it goes on at its next period")]
    private static partial void LogLoopFailed(ILogger logger, string loop, Exception exception);

    [LoggerMessage(3113, LogLevel.Information, "Deleted {Count} defunct Dead rows from the membership table")]
    private static partial void LogDefunctRowsDeleted(ILogger logger, int count);

    [LoggerMessage(3112, LogLevel.Error, "A membership snapshot subscriber threw")]
    private static partial void LogSnapshotHandlerFailed(ILogger logger, Exception exception);
}
