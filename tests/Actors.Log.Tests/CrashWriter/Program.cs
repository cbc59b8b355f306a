namespace Actors.Log.Tests.CrashWriter; internal static class Program { private static int Main() => 0; }
