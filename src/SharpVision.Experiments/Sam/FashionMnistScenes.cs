using System.Text.Json.Serialization;
using SharpVision.Nn.Data;
using SharpVision.Nn.Training;

namespace SharpVision.Experiments.Sam;

/// <summary>Parameters of <see cref="FashionMnistScenes"/> (saved with training checkpoints under snake_case names).</summary>
public sealed record SceneOptions
{
    /// <summary>Canvas side in pixels.</summary>
    [JsonPropertyName("canvas_size")] public int CanvasSize { get; init; } = 64;
    /// <summary>Fewest items per scene.</summary>
    [JsonPropertyName("min_items")] public int MinItems { get; init; } = 2;
    /// <summary>Most items per scene.</summary>
    [JsonPropertyName("max_items")] public int MaxItems { get; init; } = 4;
    /// <summary>Smallest item side in pixels (items are 28×28 resized to a random side in [min, max]).</summary>
    [JsonPropertyName("min_item_size")] public int MinItemSize { get; init; } = 20;
    /// <summary>Largest item side in pixels.</summary>
    [JsonPropertyName("max_item_size")] public int MaxItemSize { get; init; } = 40;
    /// <summary>An item pixel belongs to its footprint when its grey level exceeds this (0–255).</summary>
    [JsonPropertyName("threshold")] public int Threshold { get; init; } = 40;
    /// <summary>An item whose visible part would shrink below this many pixels is placed again elsewhere.</summary>
    [JsonPropertyName("min_visible_area")] public int MinVisibleArea { get; init; } = 24;
    /// <summary>Seed of the scene sequence.</summary>
    [JsonPropertyName("seed")] public int Seed { get; init; }

    /// <summary>Throws unless the options can make scenes.</summary>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public void Validate()
    {
        if (CanvasSize < 8) throw new ArgumentException($"CanvasSize must be >= 8; got {CanvasSize}", nameof(CanvasSize));
        if (MinItems < 1 || MaxItems < MinItems) throw new ArgumentException($"need 1 <= MinItems <= MaxItems; got {MinItems}, {MaxItems}", nameof(MinItems));
        if (MinItemSize < 4 || MaxItemSize < MinItemSize || MaxItemSize > CanvasSize)
            throw new ArgumentException($"need 4 <= MinItemSize <= MaxItemSize <= CanvasSize ({CanvasSize}); got {MinItemSize}, {MaxItemSize}", nameof(MaxItemSize));
        if (Threshold is < 0 or > 254) throw new ArgumentException($"Threshold must be in [0, 254]; got {Threshold}", nameof(Threshold));
    }
}

/// <summary>
/// A deterministic stream of segmentation scenes built from Fashion-MNIST items: 2–4 items at random
/// sizes and positions, tinted with random colours, later items occluding earlier ones. Instance masks
/// are the items' thresholded pixels after occlusion, so the masks are disjoint and their union is the
/// thresholded canvas. Scene <c>i</c> depends only on the source images, the options and <c>i</c>.
/// </summary>
public sealed class FashionMnistScenes
{
    readonly LabeledImages source;

    /// <summary>The generator's options.</summary>
    public SceneOptions Options { get; }

    /// <param name="source">The items to draw from (28×28 grey images).</param>
    /// <param name="options">Scene parameters and seed.</param>
    public FashionMnistScenes(LabeledImages source, SceneOptions options)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(options);
        if (source.Count == 0) throw new ArgumentException("source holds no images", nameof(source));
        options.Validate();
        this.source = source;
        Options = options;
    }

    /// <summary>A random generator for scene <paramref name="index"/> under <paramref name="seed"/>, independent of other indexes
    /// and the same in every process (SplitMix64 of (seed, stream, index); <c>HashCode.Combine</c>, used before, is seeded
    /// randomly per process, so a resumed or repeated run drew other scenes and prompts).</summary>
    public static Random RandomFor(int seed, long index, int stream = 0) => new((int)(SeedMixer.Mix(seed, stream, index) >> 33));

    /// <summary>Scene number <paramref name="index"/> of the stream.</summary>
    public SegmentationScene Generate(long index)
    {
        var o = Options;
        int s = o.CanvasSize, pixels = s * s;
        var rng = RandomFor(o.Seed, index);
        int count = rng.Next(o.MinItems, o.MaxItems + 1);
        var footprints = new List<bool[]>();
        var greys = new List<byte[]>();
        var items = new List<(int Index, (byte R, byte G, byte B) Tint)>();
        for (int k = 0; k < count; k++)
        {
            for (int attempt = 0; attempt < 20; attempt++)
            {
                int item = rng.Next(source.Count);
                int side = rng.Next(o.MinItemSize, o.MaxItemSize + 1);
                int x0 = rng.Next(0, s - side + 1), y0 = rng.Next(0, s - side + 1);
                var tint = ((byte)rng.Next(100, 256), (byte)rng.Next(100, 256), (byte)rng.Next(100, 256));
                var (grey, footprint) = Place(item, side, x0, y0);
                if (footprint.Count(f => f) < o.MinVisibleArea) continue;
                // Every earlier item must keep enough visible pixels once this one covers it.
                footprints.Add(footprint);
                if (VisibleMasks(footprints, pixels).All(m => m.Count(v => v) >= o.MinVisibleArea))
                {
                    greys.Add(grey);
                    items.Add((item, tint));
                    break;
                }
                footprints.RemoveAt(footprints.Count - 1);
            }
        }

        var masks = VisibleMasks(footprints, pixels);
        var rgb = new byte[pixels * 3];
        var intensity = new byte[pixels];
        var objects = new List<SceneObject>();
        for (int k = 0; k < items.Count; k++)
        {
            var (r, g, b) = items[k].Tint;
            for (int p = 0; p < pixels; p++)
            {
                if (!footprints[k][p]) continue;
                // Painter's order: a later item overwrites the pixel.
                byte v = greys[k][p];
                intensity[p] = v;
                rgb[3 * p] = (byte)(v * r / 255);
                rgb[3 * p + 1] = (byte)(v * g / 255);
                rgb[3 * p + 2] = (byte)(v * b / 255);
            }
            objects.Add(new SceneObject(items[k].Index, source.Labels[items[k].Index], footprints[k], masks[k], TightBox(masks[k], s)));
        }
        return new SegmentationScene(s, rgb, intensity, objects);
    }

    /// <summary>Scenes <paramref name="start"/> to <paramref name="start"/> + <paramref name="count"/> − 1.</summary>
    public IEnumerable<SegmentationScene> Range(long start, int count)
    {
        for (long i = start; i < start + count; i++) yield return Generate(i);
    }

    /// <summary>The tight box of a mask (inclusive pixel corners).</summary>
    /// <exception cref="ArgumentException">The mask is empty.</exception>
    public static PixelBox TightBox(bool[] mask, int size)
    {
        int x0 = int.MaxValue, y0 = int.MaxValue, x1 = -1, y1 = -1;
        for (int y = 0; y < size; y++)
            for (int x = 0; x < size; x++)
                if (mask[y * size + x]) { x0 = Math.Min(x0, x); y0 = Math.Min(y0, y); x1 = Math.Max(x1, x); y1 = Math.Max(y1, y); }
        if (x1 < 0) throw new ArgumentException("mask is empty", nameof(mask));
        return new PixelBox(x0, y0, x1, y1);
    }

    static List<bool[]> VisibleMasks(List<bool[]> footprints, int pixels)
    {
        var covered = new bool[pixels];
        var masks = new bool[footprints.Count][];
        for (int k = footprints.Count - 1; k >= 0; k--)
        {
            var m = new bool[pixels];
            for (int p = 0; p < pixels; p++)
            {
                m[p] = footprints[k][p] && !covered[p];
                covered[p] |= footprints[k][p];
            }
            masks[k] = m;
        }
        return [.. masks];
    }

    /// <summary>Bilinearly resizes item <paramref name="item"/> to side <paramref name="side"/> at (x0, y0) on the canvas.</summary>
    (byte[] Grey, bool[] Footprint) Place(int item, int side, int x0, int y0)
    {
        int s = Options.CanvasSize, h = source.Height, w = source.Width;
        var grey = new byte[s * s];
        var footprint = new bool[s * s];
        int offset = item * h * w;
        for (int y = 0; y < side; y++)
            for (int x = 0; x < side; x++)
            {
                // Half-pixel-centre sampling, as align_corners=False.
                double sy = Math.Clamp((y + 0.5) * h / side - 0.5, 0, h - 1), sx = Math.Clamp((x + 0.5) * w / side - 0.5, 0, w - 1);
                int iy = (int)sy, ix = (int)sx, iy1 = Math.Min(iy + 1, h - 1), ix1 = Math.Min(ix + 1, w - 1);
                double fy = sy - iy, fx = sx - ix;
                double v = (1 - fy) * ((1 - fx) * source.Images[offset + iy * w + ix] + fx * source.Images[offset + iy * w + ix1])
                         + fy * ((1 - fx) * source.Images[offset + iy1 * w + ix] + fx * source.Images[offset + iy1 * w + ix1]);
                byte b = (byte)Math.Round(v);
                int p = (y0 + y) * s + x0 + x;
                grey[p] = b;
                footprint[p] = b > Options.Threshold;
            }
        return (grey, footprint);
    }
}
