using System.Security.Cryptography;
using Actors.Broker;
using Actors.Broker.Security;
using Actors.Testing;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace Actors.WebConsole.Tests;

/// <summary>
/// The console behind the cluster's SASL users (http.auth=sasl): a browser without credentials gets 401, a browser
/// with a wrong password is refused, and one logged in with a SCRAM user's name and password sees the Cluster page. One silo process of its own (the shared
/// cluster's consoles stay open); the shared browser.
/// </summary>
[Collection(ConsoleCollection.Name)]
public sealed class ConsoleAuthenticationTests(ConsoleFixture fixture, ITestOutputHelper output)
{
    private const string User = "operator";
    private const string Password = "operator-secret";

    [ChromiumFact]
    public async Task A_browser_logs_in_to_the_console_with_a_sasl_users_password_and_is_refused_without_it()
    {
        await using var cluster = await ProcessCluster.StartAsync(1, output.WriteLine, args: ["--http.auth", "sasl"]);
        var salt = RandomNumberGenerator.GetBytes(16);
        var created = await cluster.Client.GetGrain<IScramCredentialsGrain>(BrokerGrainKeys.ScramCredentials).AlterAsync([],
            [new ScramUpsertion(User, ScramMechanism.ScramSha512, 4096, salt, Scram.SaltedPassword(ScramMechanism.ScramSha512, Password, salt, 4096))]);
        Assert.All(created, r => Assert.Equal(Actors.Broker.ErrorCode.None, r.Error));
        var url = $"http://127.0.0.1:{cluster.Silos[0].HttpPort}/console/";

        await using (var anonymous = await fixture.Browser.NewContextAsync())
        {
            var refused = await anonymous.APIRequest.GetAsync(url);
            Assert.Equal(401, refused.Status);
            Assert.StartsWith("Basic", refused.Headers["www-authenticate"], StringComparison.Ordinal);
        }

        await using (var wrong = await fixture.Browser.NewContextAsync(new BrowserNewContextOptions
        {
            HttpCredentials = new HttpCredentials { Username = User, Password = "wrong" },
        }))
        {
            var page = await wrong.NewPageAsync();
            var refused = await page.GotoAsync(url);
            Assert.Equal(401, refused!.Status);
        }

        await using var loggedIn = await fixture.Browser.NewContextAsync(new BrowserNewContextOptions
        {
            HttpCredentials = new HttpCredentials { Username = User, Password = Password },
        });
        var console = await loggedIn.NewPageAsync();
        console.SetDefaultTimeout(20_000);
        var response = await console.GotoAsync(url);
        Assert.Equal(200, response!.Status);
        Assert.EndsWith("/console/cluster", console.Url, StringComparison.Ordinal);
        Assert.Equal("Cluster", (await console.Locator("h1").InnerTextAsync()).Trim());
        // The live part refreshes from a fragment with the same credentials: the silo's row turns up Active.
        await console.Locator("#silos tr[data-status='Active']").WaitForAsync();
        output.WriteLine(await ConsoleFixture.ScreenshotAsync(console, "cluster-logged-in"));
    }
}
