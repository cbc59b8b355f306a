using System.Security.Cryptography;
using Actors.Broker;
using Actors.Broker.Security;
using Actors.Testing;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace Actors.WebConsole.Tests;

/// <summary>
/// One silo process whose console is behind the cluster's SASL users (http.auth=sasl) and whose Kafka authorizer is on
/// (authorizer.class.name=acl, super.users=User:operator; changes from the console allowed), for the tests of logging
/// in and of ACLs. The shared three-silo cluster's consoles stay open and without ACLs.
/// </summary>
public sealed class SecuredConsoleFixture : IAsyncLifetime
{
    public const string SuperUser = "operator";
    public const string SuperPassword = "operator-secret";

    internal ProcessCluster Cluster { get; private set; } = null!;

    public string Url(string path) => $"http://127.0.0.1:{Cluster.Silos[0].HttpPort}{path}";

    public async Task InitializeAsync()
    {
        if (!File.Exists(ChromiumFactAttribute.Path))
        {
            return; // every test is skipped
        }

        Cluster = await ProcessCluster.StartAsync(1, _ => { },
            environment: new Dictionary<string, string>
            {
                ["Actors__Kafka__AuthorizerClassName"] = "acl",
                ["Actors__Kafka__SuperUsers"] = "User:" + SuperUser,
                ["ACTORS_CONSOLE__REFRESHINTERVAL"] = "00:00:00.5",
            },
            args: ["--http.auth", "sasl", "--console.allow.changes", "true"]);
        await AddUserAsync(SuperUser, SuperPassword);
    }

    /// <summary>Adds a SCRAM-SHA-512 user to the cluster's store.</summary>
    public async Task AddUserAsync(string user, string password)
    {
        var salt = RandomNumberGenerator.GetBytes(16);
        var created = await Cluster.Client.GetGrain<IScramCredentialsGrain>(BrokerGrainKeys.ScramCredentials).AlterAsync([],
            [new ScramUpsertion(user, ScramMechanism.ScramSha512, 4096, salt, Scram.SaltedPassword(ScramMechanism.ScramSha512, password, salt, 4096))]);
        Assert.All(created, r => Assert.Equal(Actors.Broker.ErrorCode.None, r.Error));
    }

    public async Task DisposeAsync()
    {
        if (Cluster is not null)
        {
            await Cluster.DisposeAsync();
        }
    }
}

/// <summary>
/// The console behind the cluster's SASL users and ACLs: a browser without credentials gets 401, one with a wrong
/// password is refused, one logged in with a SCRAM user's name and password sees the Cluster page; a user sees the
/// topics it may DESCRIBE only and is refused, naming the missing ACL, what it may not do, while a super user sees and
/// does everything. One silo process of its own (<see cref="SecuredConsoleFixture"/>); the shared browser.
/// </summary>
[Collection(ConsoleCollection.Name)]
public sealed class ConsoleAuthenticationTests(ConsoleFixture fixture, SecuredConsoleFixture secured, ITestOutputHelper output) : IClassFixture<SecuredConsoleFixture>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [ChromiumFact]
    public async Task A_browser_logs_in_to_the_console_with_a_sasl_users_password_and_is_refused_without_it()
    {
        var url = secured.Url("/console/");

        await using (var anonymous = await fixture.Browser.NewContextAsync())
        {
            var refused = await anonymous.APIRequest.GetAsync(url);
            Assert.Equal(401, refused.Status);
            Assert.StartsWith("Basic", refused.Headers["www-authenticate"], StringComparison.Ordinal);
        }

        await using (var wrong = await fixture.Browser.NewContextAsync(new BrowserNewContextOptions
        {
            HttpCredentials = new HttpCredentials { Username = SecuredConsoleFixture.SuperUser, Password = "wrong" },
        }))
        {
            var page = await wrong.NewPageAsync();
            var refused = await page.GotoAsync(url);
            Assert.Equal(401, refused!.Status);
            Assert.Contains("Authentication required", await page.InnerTextAsync("body"), StringComparison.Ordinal);
            output.WriteLine(await ConsoleFixture.ScreenshotAsync(page, "login-refused"));
        }

        await using var loggedIn = await LogInAsync(SecuredConsoleFixture.SuperUser, SecuredConsoleFixture.SuperPassword);
        var console = await loggedIn.NewPageAsync();
        console.SetDefaultTimeout(20_000);
        var response = await console.GotoAsync(url);
        Assert.Equal(200, response!.Status);
        Assert.EndsWith("/console/cluster", console.Url, StringComparison.Ordinal);
        Assert.Equal("Cluster", (await console.Locator("h1").InnerTextAsync()).Trim());
        Assert.Equal("User:" + SecuredConsoleFixture.SuperUser, (await console.Locator("#principal").InnerTextAsync()).Trim());
        // The live part refreshes from a fragment with the same credentials: the silo's row turns up Active.
        await console.Locator("#silos tr[data-status='Active']").WaitForAsync();
        output.WriteLine(await ConsoleFixture.ScreenshotAsync(console, "cluster-logged-in"));
    }

    [ChromiumFact]
    public async Task A_user_sees_only_the_topics_it_may_describe_and_cannot_delete_one_without_DELETE_while_a_super_user_can()
    {
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var (user, password) = ($"viewer-{suffix}", "viewer-secret");
        var (visible, hidden) = ($"visible-{suffix}", $"hidden-{suffix}");
        await secured.AddUserAsync(user, password);
        var controller = secured.Cluster.Client.GetGrain<IControllerGrain>(BrokerGrainKeys.Controller);
        foreach (var topic in new[] { visible, hidden })
        {
            await controller.CreateTopicAsync(new CreateTopicRequest { Name = topic, NumPartitions = 1, ReplicationFactor = 1 });
        }

        var added = await secured.Cluster.Client.GetGrain<IAclsGrain>(BrokerGrainKeys.Acls).CreateAsync(
            [new AclBinding(AclResourceType.Topic, visible, AclPatternType.Literal, "User:" + user, "*", AclOperation.Describe, AclPermissionType.Allow)]);
        Assert.All(added, r => Assert.Equal(Actors.Broker.ErrorCode.None, r.Error));

        // The user sees the topic it may DESCRIBE, not the other (the silo checks its copy of the ACLs within a second).
        await using var viewer = await LogInAsync(user, password);
        var page = await viewer.NewPageAsync();
        page.SetDefaultTimeout(20_000);
        var listed = "";
        await Wait.UntilAsync(async () =>
        {
            await page.GotoAsync(secured.Url("/console/topics"));
            listed = string.Join(", ", await page.Locator("#topics tr[data-topic]").EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.topic)"));
            return listed.Contains(visible, StringComparison.Ordinal);
        }, Deadline, $"User:{user}'s Topics page to list {visible}, which an ACL lets it DESCRIBE", () => listed);
        Assert.DoesNotContain(hidden, listed, StringComparison.Ordinal);
        Assert.Equal("User:" + user, (await page.Locator("#principal").InnerTextAsync()).Trim());
        output.WriteLine(await ConsoleFixture.ScreenshotAsync(page, "acl-topics-limited-user"));

        // Asking for the other topic by name is refused, naming the ACL it lacks.
        var refusedPage = await page.GotoAsync(secured.Url($"/console/topics/{hidden}"));
        Assert.Equal(403, refusedPage!.Status);
        Assert.Contains($"User:{user} is not allowed DESCRIBE on Topic '{hidden}'", await page.Locator("#result").InnerTextAsync(), StringComparison.Ordinal);

        // DESCRIBE does not allow DELETE: the console refuses, says which ACL is missing, and the silo logs it as the
        // Kafka listener logs a refused request.
        await page.GotoAsync(secured.Url($"/console/topics/{visible}"));
        await page.FillAsync("#delete-topic input[name=confirm]", visible);
        await page.ClickAsync("#delete-topic button");
        var refusal = (await page.Locator("#result").InnerTextAsync()).Trim();
        Assert.Contains($"User:{user} is not allowed DELETE on Topic '{visible}'", refusal, StringComparison.Ordinal);
        Assert.Contains($"--allow-principal User:{user} --operation Delete --topic {visible}", refusal, StringComparison.Ordinal);
        output.WriteLine(await ConsoleFixture.ScreenshotAsync(page, "acl-delete-refused"));
        Assert.Single(await controller.DescribeTopicsAsync([visible]));
        await Wait.UntilAsync(() => secured.Cluster.Tails().Contains($"Refused DELETE on TOPIC '{visible}' to User:{user}", StringComparison.Ordinal),
            Deadline, $"the silo to log the refused DELETE of {visible} by User:{user}", () => secured.Cluster.Tails());

        // The super user sees both topics and deletes the one the user could not.
        await using var admin = await LogInAsync(SecuredConsoleFixture.SuperUser, SecuredConsoleFixture.SuperPassword);
        var adminPage = await admin.NewPageAsync();
        adminPage.SetDefaultTimeout(20_000);
        await adminPage.GotoAsync(secured.Url("/console/topics"));
        Assert.Equal(1, await adminPage.Locator($"#topics tr[data-topic='{visible}']").CountAsync());
        Assert.Equal(1, await adminPage.Locator($"#topics tr[data-topic='{hidden}']").CountAsync());
        output.WriteLine(await ConsoleFixture.ScreenshotAsync(adminPage, "acl-topics-super-user"));
        await adminPage.GotoAsync(secured.Url($"/console/topics/{visible}"));
        await adminPage.FillAsync("#delete-topic input[name=confirm]", visible);
        await adminPage.ClickAsync("#delete-topic button");
        Assert.Contains($"Deleted topic '{visible}'", await adminPage.Locator("#result").InnerTextAsync(), StringComparison.Ordinal);
        await Wait.UntilAsync(async () =>
        {
            try
            {
                return (await controller.DescribeTopicsAsync([visible])).Length == 0;
            }
            catch (BrokerException e) when (e.Code == Actors.Broker.ErrorCode.UnknownTopicOrPartition)
            {
                return true;
            }
        }, Deadline, $"{visible} to be gone after the super user deleted it in the console");
    }

    private Task<IBrowserContext> LogInAsync(string user, string password) =>
        fixture.Browser.NewContextAsync(new BrowserNewContextOptions
        {
            HttpCredentials = new HttpCredentials { Username = user, Password = password },
            ViewportSize = new ViewportSize { Width = 1280, Height = 900 },
        });
}
