namespace SharpVision.Diffusion.ControlNet;

/// <summary>
/// The check both ControlNets make before their residuals meet a UNet: each encoder setting must equal the UNet's,
/// and the first that differs is reported with both values.
/// </summary>
internal static class UNetMatch
{
    /// <exception cref="ArgumentException"><paramref name="mine"/> differs from <paramref name="theirs"/>.</exception>
    public static void Require(string key, object? mine, object? theirs)
    {
        string a = Format(mine), b = Format(theirs);
        if (a != b)
            throw new ArgumentException($"ControlNet {key} {a} differs from the UNet's {b}: the ControlNet was built for another UNet configuration", "unet");
    }

    static string Format(object? value) => value switch
    {
        null => "null",
        string s => s,
        System.Collections.IEnumerable items => "[" + string.Join(", ", items.Cast<object>()) + "]",
        _ => value.ToString() ?? "null",
    };
}
