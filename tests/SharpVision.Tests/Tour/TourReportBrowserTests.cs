using Microsoft.Playwright;
using SharpVision.Cli.Tour;

namespace SharpVision.Tests.Tour;

/// <summary>
/// Opens the smoke tour's index.html in headless Chromium (Debian's <c>chromium</c> package; nothing is downloaded) and checks
/// that every image loaded, every section is there and the page logged no errors; saves a screenshot. Skipped where Chromium is
/// missing unless SHARPVISION_REQUIRE_BROWSER=1 (as in CI, whose install step provides it).
/// </summary>
[Collection(Cli.ConsoleCollection.Name)]
public sealed class TourReportBrowserTests(SmokeTourFixture tour) : IClassFixture<SmokeTourFixture>
{
    const string Chromium = "/usr/bin/chromium";

    [SkippableFact]
    public async Task TheReportShowsEveryImageAndSectionWithoutErrors()
    {
        bool required = Environment.GetEnvironmentVariable("SHARPVISION_REQUIRE_BROWSER") == "1";
        Assert.False(required && !File.Exists(Chromium), $"SHARPVISION_REQUIRE_BROWSER=1 but {Chromium} is missing (apt-get install chromium)");
        Skip.IfNot(File.Exists(Chromium), $"{Chromium} is missing (apt-get install chromium); set SHARPVISION_REQUIRE_BROWSER=1 to fail instead");
        Assert.True(tour.ExitCode == 0, tour.Stderr);

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new() { ExecutablePath = Chromium, Headless = true });
        var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1200, Height = 900 } });
        var errors = new List<string>();
        page.Console += (_, message) => { if (message.Type == "error") errors.Add($"console: {message.Text}"); };
        page.PageError += (_, error) => errors.Add($"page error: {error}");
        page.RequestFailed += (_, request) => errors.Add($"failed to load {request.Url}: {request.Failure}");

        await page.GotoAsync(new Uri(Path.Combine(tour.Dir, TourReport.IndexFile)).AbsoluteUri, new() { WaitUntil = WaitUntilState.Load });

        var images = await page.EvalOnSelectorAllAsync<ImageState[]>("img",
            "imgs => imgs.map(i => ({ src: i.getAttribute('src'), complete: i.complete, naturalWidth: i.naturalWidth }))");
        Assert.True(images.Length >= 8, $"only {images.Length} images in the report");
        Assert.All(images, i => Assert.True(i.Complete && i.NaturalWidth > 0, $"{i.Src} did not load"));
        foreach (var stage in TourStages.All)
        {
            var section = page.Locator($"section#{stage.Id}");
            Assert.Equal(1, await section.CountAsync());
            Assert.Equal(stage.Title, (await section.Locator("h2").InnerTextAsync()).Trim());
            Assert.DoesNotContain("Not run yet", await section.InnerTextAsync(), StringComparison.Ordinal);
        }
        Assert.Empty(errors);

        var artifacts = Environment.GetEnvironmentVariable("SHARPVISION_ARTIFACTS") is { Length: > 0 } a ? a : tour.Dir;
        Directory.CreateDirectory(artifacts);
        var screenshot = Path.Combine(artifacts, "tour-report-screenshot.png");
        await page.ScreenshotAsync(new() { Path = screenshot, FullPage = true });
        Assert.True(new FileInfo(screenshot).Length > 10_000, "the screenshot is nearly empty");
        await page.ScreenshotAsync(new() { Path = Path.Combine(artifacts, "tour-report-top.png") }); // the first screen, for a quick look
    }

    /// <summary>Filled by Playwright, which needs a parameterless constructor.</summary>
    public sealed class ImageState
    {
        public string Src { get; set; } = "";
        public bool Complete { get; set; }
        public int NaturalWidth { get; set; }
    }
}
