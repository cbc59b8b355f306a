using System.Net;
using Actors.Testing;
using Microsoft.Playwright;

namespace Actors.WebConsole.Tests;

/// <summary>A fact that needs Debian's chromium at /usr/bin/chromium; skipped, saying how to get it, when it is missing.</summary>
public sealed class ChromiumFactAttribute : FactAttribute
{
    public const string Path = "/usr/bin/chromium";

    public ChromiumFactAttribute()
    {
        if (!File.Exists(Path))
        {
            Skip = $"chromium is not installed at {Path}: tests/install-tools.sh installs Debian's package (apt-get install chromium), which needs root.";
        }
    }
}

/// <summary>
/// One cluster of three real silo processes for every browser test, each silo serving the console on its own free
/// HTTP port: silo1 and silo2 allow changes from the console (--console.allow.changes true), silo3 does not (the
/// default). Lag is sampled every second so the chart fills within a test. One headless chromium drives them all.
/// </summary>
public sealed class ConsoleFixture : IAsyncLifetime
{
    private readonly List<string> log = [];
    private IPlaywright? playwright;

    internal ProcessCluster Cluster { get; private set; } = null!;

    public IBrowser Browser { get; private set; } = null!;

    /// <summary>Where the screenshots go: &lt;repository&gt;/artifacts/console.</summary>
    public static string Artifacts { get; } = System.IO.Path.Combine(RepositoryRoot.Path, "artifacts", "console");

    public string Url(string silo, string path) => $"http://127.0.0.1:{Cluster.Silo(silo).HttpPort}{path}";

    public string Bootstrap(string silo) => $"127.0.0.1:{Cluster.Silo(silo).KafkaPort}";

    public async Task InitializeAsync()
    {
        if (!File.Exists(ChromiumFactAttribute.Path))
        {
            return; // every test is skipped
        }

        Directory.CreateDirectory(Artifacts);
        Cluster = await ProcessCluster.StartAsync(3, Log,
            environment: new Dictionary<string, string> { ["ACTORS_CONSOLE__SAMPLEINTERVAL"] = "00:00:01", ["ACTORS_CONSOLE__REFRESHINTERVAL"] = "00:00:00.5" },
            siloArgs: name => name == "silo3" ? [] : ["--console.allow.changes", "true"]);
        foreach (var silo in Cluster.Silos)
        {
            await WaitForConsoleAsync(silo);
        }

        playwright = await Playwright.CreateAsync();
        Browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumFactAttribute.Path,
            Headless = true,
            // As root in a container chromium's sandbox cannot start.
            Args = ["--no-sandbox", "--disable-dev-shm-usage"],
        });
    }

    /// <summary>Polls the silo's console until its Cluster page answers 200 with three Active silos.</summary>
    internal async Task WaitForConsoleAsync(BrokerProcess silo)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var last = "nothing yet";
        await Wait.UntilAsync(async () =>
        {
            try
            {
                using var response = await http.GetAsync(new Uri($"http://127.0.0.1:{silo.HttpPort}/console/fragments/cluster"));
                var body = await response.Content.ReadAsStringAsync();
                last = $"HTTP {(int)response.StatusCode}: {body[..Math.Min(body.Length, 300)]}";
                return response.StatusCode == HttpStatusCode.OK && CountOccurrences(body, "data-status=\"Active\"") >= 3;
            }
            catch (HttpRequestException e)
            {
                last = e.Message;
                return false;
            }
            catch (TaskCanceledException e)
            {
                last = e.Message;
                return false;
            }
        }, TimeSpan.FromSeconds(90), $"{silo.Name}'s console on port {silo.HttpPort} to show three Active silos", () => last + Environment.NewLine + Cluster.Tails());
    }

    private static int CountOccurrences(string text, string part)
    {
        var count = 0;
        for (var i = text.IndexOf(part, StringComparison.Ordinal); i >= 0; i = text.IndexOf(part, i + part.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }

    /// <summary>A new page (desktop size unless given) that fails the test on a script error.</summary>
    public async Task<IPage> NewPageAsync(int width = 1280, int height = 900)
    {
        var page = await Browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = width, Height = height } });
        page.SetDefaultTimeout(20_000);
        return page;
    }

    /// <summary>Writes a full-page screenshot to the artifacts folder and returns its path.</summary>
    public static async Task<string> ScreenshotAsync(IPage page, string name)
    {
        ArgumentNullException.ThrowIfNull(page);
        var path = System.IO.Path.Combine(Artifacts, name + ".png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        return path;
    }

    private void Log(string line)
    {
        lock (log)
        {
            log.Add(line);
        }
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }

        playwright?.Dispose();
        if (Cluster is not null)
        {
            await Cluster.DisposeAsync();
        }
    }
}

/// <summary>All browser tests share one cluster and run one after another.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ConsoleCollection : ICollectionFixture<ConsoleFixture>
{
    public const string Name = "console";
}
