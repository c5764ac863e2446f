using SharpVision.Experiments.Output;

namespace SharpVision.Experiments.Sam;

/// <summary>Draws evaluation examples: per scene the image, the ground truth and each setting's masks with their prompts.</summary>
public static class SamExamplePicture
{
    const int Scale = 4, Gap = 4;
    static readonly (byte R, byte G, byte B)[] Palette = [(230, 25, 75), (60, 180, 75), (0, 130, 200), (245, 130, 48), (145, 30, 180), (70, 240, 240)];

    public static void Save(IReadOnlyList<SegmentationScene> scenes, IReadOnlyList<SamExample> examples, string path)
    {
        int s = scenes[0].Size, panel = s * Scale, columns = 2 + Enum.GetValues<PromptSetting>().Length;
        int width = columns * panel + (columns - 1) * Gap, height = scenes.Count * panel + (scenes.Count - 1) * Gap;
        var rgb = new byte[width * height * 3];
        Array.Fill(rgb, (byte)255);
        for (int r = 0; r < scenes.Count; r++)
        {
            var scene = scenes[r];
            int y0 = r * (panel + Gap);
            Panel(rgb, width, 0, y0, scene, null);
            Panel(rgb, width, panel + Gap, y0, scene, scene.Objects.Select(o => o.Mask).ToList());
            foreach (var setting in Enum.GetValues<PromptSetting>())
            {
                int x0 = (2 + (int)setting) * (panel + Gap);
                var mine = examples.Where(e => e.SceneIndex == r && e.Setting == setting).OrderBy(e => e.ObjectIndex).ToList();
                Panel(rgb, width, x0, y0, scene, mine.Select(e => e.Predicted).ToList());
                foreach (var e in mine)
                {
                    var color = Palette[e.ObjectIndex % Palette.Length];
                    if (e.Box is { } b) Rect(rgb, width, x0, y0, b, ((byte)255, (byte)255, (byte)0));
                    foreach (var p in e.Points)
                        Dot(rgb, width, (x0, y0, panel), x0 + p.X * Scale + Scale / 2, y0 + p.Y * Scale + Scale / 2,
                            p.Label == 1 ? ((byte)0, (byte)255, (byte)0) : ((byte)255, (byte)0, (byte)0), color);
                }
            }
        }
        Images.SaveRgb(rgb, height, width, path);
    }

    static void Panel(byte[] rgb, int width, int x0, int y0, SegmentationScene scene, IReadOnlyList<bool[]>? masks)
    {
        int s = scene.Size;
        for (int y = 0; y < s * Scale; y++)
            for (int x = 0; x < s * Scale; x++)
            {
                int p = (y / Scale) * s + x / Scale, at = ((y0 + y) * width + x0 + x) * 3;
                (int r, int g, int b) = (scene.Rgb[3 * p], scene.Rgb[3 * p + 1], scene.Rgb[3 * p + 2]);
                if (masks is not null)
                {
                    // Grey image with each object's mask tinted in its own colour.
                    int grey = scene.Intensity[p] / 2;
                    (r, g, b) = (grey, grey, grey);
                    for (int k = 0; k < masks.Count; k++)
                        if (masks[k][p]) { var c = Palette[k % Palette.Length]; (r, g, b) = ((r + c.R) / 2 + 40, (g + c.G) / 2 + 40, (b + c.B) / 2 + 40); }
                }
                rgb[at] = (byte)Math.Min(255, r); rgb[at + 1] = (byte)Math.Min(255, g); rgb[at + 2] = (byte)Math.Min(255, b);
            }
    }

    static void Set(byte[] rgb, int width, int x, int y, (byte R, byte G, byte B) c)
    {
        int height = rgb.Length / 3 / width;
        if (x < 0 || y < 0 || x >= width || y >= height) return;
        int at = (y * width + x) * 3;
        (rgb[at], rgb[at + 1], rgb[at + 2]) = c;
    }

    /// <summary>A click: filled by its label's colour, ringed in its object's; clipped to its panel.</summary>
    static void Dot(byte[] rgb, int width, (int X0, int Y0, int Side) clip, int cx, int cy, (byte, byte, byte) fill, (byte, byte, byte) ring)
    {
        for (int dy = -4; dy <= 4; dy++)
            for (int dx = -4; dx <= 4; dx++)
            {
                int x = cx + dx, y = cy + dy;
                if (x < clip.X0 || y < clip.Y0 || x >= clip.X0 + clip.Side || y >= clip.Y0 + clip.Side) continue;
                int d = dx * dx + dy * dy;
                if (d <= 6) Set(rgb, width, cx + dx, cy + dy, fill);
                else if (d <= 16) Set(rgb, width, cx + dx, cy + dy, ring);
            }
    }

    static void Rect(byte[] rgb, int width, int x0, int y0, PixelBox b, (byte, byte, byte) c)
    {
        int l = x0 + (int)(b.X0 * Scale), r = x0 + (int)((b.X1 + 1) * Scale) - 1, t = y0 + (int)(b.Y0 * Scale), bt = y0 + (int)((b.Y1 + 1) * Scale) - 1;
        for (int x = l; x <= r; x++) { Set(rgb, width, x, t, c); Set(rgb, width, x, bt, c); }
        for (int y = t; y <= bt; y++) { Set(rgb, width, l, y, c); Set(rgb, width, r, y, c); }
    }
}
