namespace SharpVision.Diffusion.ControlNet;

/// <summary>
/// The check both ControlNets make before their residuals meet a UNet: each encoder setting must equal the UNet's;
/// every setting that differs is reported with both values.
/// </summary>
internal static class UNetMatch
{
    /// <param name="settings">(config key, the ControlNet's value, the UNet's value), in config order.</param>
    /// <exception cref="ArgumentException">Some settings differ (all of them named, with both values).</exception>
    public static void Require(params (string Key, object? Mine, object? Theirs)[] settings)
    {
        var differing = settings.Select(s => (s.Key, Mine: Format(s.Mine), Theirs: Format(s.Theirs))).Where(s => s.Mine != s.Theirs)
            .Select(s => $"{s.Key} {s.Mine} differs from the UNet's {s.Theirs}").ToList();
        if (differing.Count > 0)
            throw new ArgumentException($"ControlNet {string.Join("; ", differing)}: the ControlNet was built for another UNet configuration", "unet");
    }

    static string Format(object? value) => value switch
    {
        null => "null",
        string s => s,
        System.Collections.IEnumerable items => "[" + string.Join(", ", items.Cast<object>()) + "]",
        _ => value.ToString() ?? "null",
    };
}
