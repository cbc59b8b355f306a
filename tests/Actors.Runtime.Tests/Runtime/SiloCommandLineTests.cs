using System.Collections;
using Actors.Hosting;

namespace Actors.Runtime.Tests.Runtime;

public sealed class SiloCommandLineTests
{
    [Fact]
    public void FlagsBecomeConfigurationKeys()
    {
        var values = SiloCommandLine.Parse(["--name", "b1", "--port=11112", "--gateway-port", "30001", "--data", "/var/lib/actors", "--peers", "h1:11111, h2:11111"]);

        Assert.Equal("b1", values["Actors:Silo:Name"]);
        Assert.Equal("11112", values["Actors:Silo:SiloPort"]);
        Assert.Equal("30001", values["Actors:Silo:GatewayPort"]);
        Assert.Equal("/var/lib/actors", values["Actors:Silo:DataDirectory"]);
        Assert.Equal("h1:11111", values["Actors:Silo:Peers:0"]);
        Assert.Equal("h2:11111", values["Actors:Silo:Peers:1"]);
    }

    [Fact]
    public void UnknownFlagIsRejectedWithTheUsage()
    {
        var error = Assert.Throws<ArgumentException>(() => SiloCommandLine.Parse(["--prot", "1"]));

        Assert.Contains("--prot", error.Message);
        Assert.Contains("usage:", error.Message);
    }

    [Fact]
    public void EnvironmentVariablesWithThePrefixMapUnderActors()
    {
        var environment = new Hashtable { ["ACTORS_SILO__SILOPORT"] = "11113", ["PATH"] = "/bin" };

        var values = SiloCommandLine.FromEnvironment(environment);

        Assert.Equal("11113", values["Actors:SILO:SILOPORT"]);
        Assert.Single(values);
    }
}
