using Flame.EndToEnd.Tests.Support;
using Flame.Testing;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using static Flame.EndToEnd.Tests.Support.SessionChecks;

namespace Flame.EndToEnd.Tests.Observability;

/// <summary>The dashboard in headless Chromium (Debian's chromium and chromedriver) while a session runs.</summary>
public sealed class DashboardTests
{
    /// <summary>Where the screenshots go: the test's output folder, kept as artifacts.</summary>
    public static readonly string Screenshots = Path.Combine(AppContext.BaseDirectory, "screenshots");

    [Fact]
    public async Task TheDashboard_ShowsARunningSessionsProgressMove_AndListsItsTasks_WithoutAReload()
    {
        var address = $"http://127.0.0.1:{FreePorts.Next()}";
        await using var cluster = await FlameCluster.StartAsync("dashboard", new Dictionary<string, string>
        {
            ["Flame:Observability:Endpoint"] = address,
            ["Flame:Observability:DashboardRefreshMilliseconds"] = "250",
            ["Flame:ExecutorManager:TaskWindow"] = "1",
        });
        var app = await cluster.RegisterTestApplicationAsync("dashboard");
        // One executor, 40 tasks of 300 ms: over ten seconds of visible progress.
        var session = await cluster.Client.CreateSessionAsync(null, new SessionSpec { Application = app.Name, MaxInstances = 1 });
        using var browser = StartChromium();
        browser.Navigate().GoToUrl($"{address}/?session={session.Id}");
        var marker = Guid.NewGuid().ToString("N");
        // A reload would lose this: the page must change under it.
        ((IJavaScriptExecutor)browser).ExecuteScript($"window.flameMarker = '{marker}';");
        int Done() => Fresh(() => int.Parse(browser.FindElement(By.CssSelector("#detail-progress .bar")).GetDomAttribute("data-done")!));
        await Wait.UntilAsync(() => Fresh(() => browser.FindElements(By.CssSelector("#detail-progress .bar")).Count == 1 && browser.FindElement(By.Id("connection")).Text == "live"),
            "the page to be live and show the empty session", TimeSpan.FromSeconds(60), () => browser.FindElement(By.TagName("body")).Text);

        // The browser is up before the work starts: a loaded machine may take long to start it.
        await cluster.Client.CreateTasksAsync(session.Id, Enumerable.Range(1, 40).Select(i => $"slowecho:300:{i}"));
        var firstDone = -1;
        await Wait.UntilAsync(() => Fresh(() =>
            {
                var rows = browser.FindElements(By.CssSelector("#sessions tbody tr[data-id]"));
                if (rows.All(r => r.GetDomAttribute("data-id") != session.Id) || browser.FindElements(By.CssSelector("#detail-progress .bar")).Count == 0)
                    return false;
                firstDone = Done();
                return firstDone is > 0 and < 40;
            }),
            "the dashboard to show the session with some but not all of its 40 tasks done", TimeSpan.FromSeconds(60),
            () => browser.FindElement(By.Id("sessions")).Text);
        Directory.CreateDirectory(Screenshots);
        ((ITakesScreenshot)browser).GetScreenshot().SaveAsFile(Path.Combine(Screenshots, "dashboard-running.png"));

        var laterDone = firstDone;
        await Wait.UntilAsync(() => (laterDone = Done()) > firstDone,
            $"the session's progress to move past {firstDone} done", TimeSpan.FromSeconds(60), () => $"{laterDone} done");
        var listed = Fresh(() => browser.FindElements(By.CssSelector("#tasks tbody tr[data-task]")).Count);
        Assert.True(listed > 0, "the session's tasks should be listed");
        Assert.Equal(marker, ((IJavaScriptExecutor)browser).ExecuteScript("return window.flameMarker;"));

        // The filter shows one state only.
        Fresh(() => { browser.FindElement(By.CssSelector("#filters button[data-filter='succeeded']")).Click(); return true; });
        await Wait.UntilAsync(() => Fresh(() =>
            {
                var states = browser.FindElements(By.CssSelector("#tasks tbody tr[data-task] .state")).Select(e => e.Text).ToList();
                return states.Count > 0 && states.All(s => s == "succeeded");
            }),
            "the task list to show succeeded tasks only", TimeSpan.FromSeconds(30), () => browser.FindElement(By.Id("tasks")).Text);
        ((ITakesScreenshot)browser).GetScreenshot().SaveAsFile(Path.Combine(Screenshots, "dashboard-succeeded-filter.png"));

        await cluster.WaitUntilAllTerminalAsync(session.Id, 40);
        await Wait.UntilAsync(() => Done() == 40, "the dashboard to show all 40 tasks done", TimeSpan.FromSeconds(30), () => $"{Done()} done");
        ((ITakesScreenshot)browser).GetScreenshot().SaveAsFile(Path.Combine(Screenshots, "dashboard-finished.png"));
        Assert.Equal(marker, ((IJavaScriptExecutor)browser).ExecuteScript("return window.flameMarker;"));
    }

    /// <summary>
    /// Runs <paramref name="read"/> again when the page re-rendered under it: the dashboard redraws on every push, so
    /// an element found a moment ago may be gone (a user's click simply lands on the new one).
    /// </summary>
    private static T Fresh<T>(Func<T> read)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return read();
            }
            catch (StaleElementReferenceException) when (attempt < 20)
            {
            }
        }
    }

    /// <summary>Headless Chromium through Debian's chromedriver: no driver download (Selenium Manager stays out).</summary>
    private static ChromeDriver StartChromium()
    {
        var options = new ChromeOptions { BinaryLocation = "/usr/bin/chromium" };
        options.AddArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1400,1100");
        var service = ChromeDriverService.CreateDefaultService("/usr/bin", "chromedriver");
        service.SuppressInitialDiagnosticInformation = true;
        service.HideCommandPromptWindow = true;
        return new ChromeDriver(service, options, TimeSpan.FromSeconds(60));
    }
}
