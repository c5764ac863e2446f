using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using SharpVision.Nn.Checkpoints;

namespace SharpVision.Cli.Tour;

/// <summary>
/// The tour's outputs: <c>STAGE/stage.json</c> per finished stage, and <c>index.html</c> (self-contained apart from the PNGs
/// beside it, so it reads offline) plus <c>summary.json</c> rebuilt from every finished stage after each one.
/// </summary>
public static class TourReport
{
    public const string StageFile = "stage.json", IndexFile = "index.html", SummaryFile = "summary.json";
    static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>Writes a stage's result atomically.</summary>
    public static void SaveStage(string outDir, StageResult result) =>
        AtomicFile.WriteAllText(Path.Combine(outDir, result.Id, StageFile), JsonSerializer.Serialize(result, Json));

    /// <summary>The stage's stored result, or null when it has none (or an unreadable one, which is then rerun).</summary>
    public static StageResult? LoadStage(string outDir, string id)
    {
        var path = Path.Combine(outDir, id, StageFile);
        if (!File.Exists(path)) return null;
        try { return JsonSerializer.Deserialize<StageResult>(File.ReadAllText(path), Json); }
        catch (JsonException) { return null; }
    }

    /// <summary>Rebuilds index.html and summary.json from the stored results of <paramref name="stages"/> (in tour order).</summary>
    public static void Write(string outDir, IReadOnlyList<TourStage> stages, string dataDescription)
    {
        var results = stages.Select(s => (Stage: s, Result: LoadStage(outDir, s.Id))).ToList();
        var summary = new JsonObject
        {
            ["generated_utc"] = DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture),
            ["data"] = dataDescription,
            ["stages"] = new JsonObject(results.Where(r => r.Result is not null).Select(r => KeyValuePair.Create(r.Stage.Id, (JsonNode?)new JsonObject
            {
                ["title"] = r.Result!.Title,
                ["budget"] = r.Result.Budget,
                ["seconds"] = Math.Round(r.Result.Seconds, 1),
                ["finished_utc"] = r.Result.FinishedUtc.ToString("O", CultureInfo.InvariantCulture),
                ["claim"] = r.Result.Claim,
                ["measured"] = r.Result.Measured,
                ["figures"] = r.Result.Figures.DeepClone(),
            }))),
            ["not_run"] = new JsonArray(results.Where(r => r.Result is null).Select(r => (JsonNode?)r.Stage.Id).ToArray()),
        };
        AtomicFile.WriteAllText(Path.Combine(outDir, SummaryFile), summary.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        AtomicFile.WriteAllText(Path.Combine(outDir, IndexFile), Html(results, dataDescription));
    }

    static string E(string text) => WebUtility.HtmlEncode(text);

    static string Html(IReadOnlyList<(TourStage Stage, StageResult? Result)> results, string dataDescription)
    {
        var inv = CultureInfo.InvariantCulture;
        var h = new StringBuilder();
        h.AppendLine("<!DOCTYPE html>").AppendLine("<html lang=\"en\"><head><meta charset=\"utf-8\">")
         .AppendLine("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>SharpVision tour</title>")
         .AppendLine("""
            <style>
            body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.45; }
            h1 { margin-bottom: 0.2em; } h2 { border-bottom: 2px solid #ddd; padding-bottom: 0.2em; margin-top: 2em; }
            nav a { margin-right: 1em; } .claim { color: #555; font-style: italic; } .measured { font-weight: 600; }
            table { border-collapse: collapse; margin: 0.8em 0; } th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; }
            td.n { text-align: right; font-variant-numeric: tabular-nums; } caption { text-align: left; font-weight: 600; padding: 0.3em 0; }
            figure { margin: 1em 0; } figure img { max-width: 100%; border: 1px solid #ddd; image-rendering: pixelated; }
            figcaption { color: #555; font-size: 0.9em; } .meta { color: #777; font-size: 0.9em; } .missing { color: #a00; }
            </style></head><body>
            """);
        h.AppendLine("<h1>SharpVision tour</h1>");
        h.AppendLine(string.Create(inv, $"<p class=\"meta\">Data: {E(dataDescription)}. Generated {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC by <code>sharpvision tour</code>; figures are also in <a href=\"{SummaryFile}\">{SummaryFile}</a>.</p>"));
        h.Append("<nav>");
        foreach (var (stage, _) in results) h.Append(string.Create(inv, $"<a href=\"#{stage.Id}\">{E(stage.Title)}</a>"));
        h.AppendLine("</nav>");

        h.AppendLine("<table id=\"overview\"><caption>Overview</caption><tr><th>section</th><th>budget</th><th>seconds</th><th>measured</th></tr>");
        foreach (var (stage, r) in results)
            h.AppendLine(r is null
                ? $"<tr><td><a href=\"#{stage.Id}\">{E(stage.Title)}</a></td><td></td><td></td><td class=\"missing\">not run yet</td></tr>"
                : string.Create(inv, $"<tr><td><a href=\"#{stage.Id}\">{E(stage.Title)}</a></td><td>{E(r.Budget)}</td><td class=\"n\">{r.Seconds:F0}</td><td>{E(r.Measured)}</td></tr>"));
        h.AppendLine("</table>");

        foreach (var (stage, r) in results)
        {
            h.AppendLine(string.Create(inv, $"<section id=\"{stage.Id}\" class=\"stage\"><h2>{E(stage.Title)}</h2>"));
            if (r is null)
            {
                h.AppendLine($"<p class=\"missing\">Not run yet: <code>sharpvision tour --only {stage.Id}</code>.</p></section>");
                continue;
            }
            h.AppendLine($"<p class=\"claim\">{E(r.Claim)}</p>");
            h.AppendLine($"<p class=\"measured\">{E(r.Measured)}</p>");
            foreach (var t in r.Tables)
            {
                h.AppendLine($"<table><caption>{E(t.Caption)}</caption><tr>{string.Concat(t.Header.Select(c => $"<th>{E(c)}</th>"))}</tr>");
                foreach (var row in t.Rows)
                    h.AppendLine($"<tr>{string.Concat(row.Select(c => $"<td{(IsNumber(c) ? " class=\"n\"" : "")}>{E(c)}</td>"))}</tr>");
                h.AppendLine("</table>");
            }
            foreach (var img in r.Images)
                h.AppendLine($"<figure><img src=\"{E(img.File)}\" alt=\"{E(img.Caption)}\"><figcaption>{E(img.Caption)}</figcaption></figure>");
            foreach (var n in r.Notes) h.AppendLine($"<p>{E(n)}</p>");
            h.AppendLine(string.Create(inv, $"<p class=\"meta\">Budget {E(r.Budget)}; {r.Seconds:F1} s; finished {r.FinishedUtc:yyyy-MM-dd HH:mm:ss} UTC.</p></section>"));
        }
        h.AppendLine("</body></html>");
        return h.ToString();
    }

    static bool IsNumber(string cell) =>
        cell.Length > 0 && double.TryParse(cell.TrimEnd('%', 's').Replace(",", "", StringComparison.Ordinal).Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out _);
}
