using SkiaSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Experiments.Output;

/// <summary>PNG reading and writing through SkiaSharp: image grids, masks and overlays.</summary>
public static class Images
{
    /// <summary>
    /// Writes a batch as a grid PNG.
    /// </summary>
    /// <param name="images">(N, 1 or 3, H, W) values in [<paramref name="low"/>, <paramref name="high"/>], clamped.</param>
    /// <param name="columns">Images per row.</param>
    /// <param name="scale">Integer upscaling (nearest neighbour) so small images are visible.</param>
    public static void SaveGrid(Tensor images, string path, int columns = 8, double low = 0, double high = 1, int scale = 2, int padding = 2)
    {
        if (images.dim() != 4 || (images.shape[1] != 1 && images.shape[1] != 3))
            throw new ArgumentException($"images must be (N, 1 or 3, H, W); got {SharpVision.Nn.Shapes.Format(images)}", nameof(images));
        int n = (int)images.shape[0], c = (int)images.shape[1], h = (int)images.shape[2], w = (int)images.shape[3];
        columns = Math.Max(1, Math.Min(columns, n));
        int rows = (n + columns - 1) / columns;
        var pixels = ToBytes(images, low, high); // (N, H, W, C)
        int cellW = w * scale + padding, cellH = h * scale + padding;
        using var bitmap = new SKBitmap(columns * cellW + padding, rows * cellH + padding, SKColorType.Rgba8888, SKAlphaType.Opaque);
        bitmap.Erase(new SKColor(40, 40, 40));
        for (int i = 0; i < n; i++)
        {
            int ox = padding + (i % columns) * cellW, oy = padding + (i / columns) * cellH;
            for (int y = 0; y < h * scale; y++)
                for (int x = 0; x < w * scale; x++)
                {
                    int at = ((i * h + y / scale) * w + x / scale) * c;
                    bitmap.SetPixel(ox + x, oy + y, c == 1 ? new SKColor(pixels[at], pixels[at], pixels[at]) : new SKColor(pixels[at], pixels[at + 1], pixels[at + 2]));
                }
        }
        Save(bitmap, path);
    }

    /// <summary>Images as bytes (N, H, W, C), mapped from [low, high] to [0, 255].</summary>
    static byte[] ToBytes(Tensor images, double low, double high)
    {
        using var scope = torch.NewDisposeScope();
        var t = images.detach().cpu().to(ScalarType.Float32);
        t = ((t - low) / (high - low) * 255.0).round().clamp(0, 255).to(ScalarType.Byte).permute(0, 2, 3, 1).contiguous();
        return t.data<byte>().ToArray();
    }

    /// <summary>Largest width or height <see cref="LoadRgb"/> decodes; a header declaring more is rejected before decoding.</summary>
    public const int MaxSide = 16384;

    // Above this many pixels a header must be backed by file bytes: decoded RGBA may be at most MaxExpansion times
    // the file (PNG's deflate tops out near 1032:1), so a 100-byte file cannot make us allocate a gigabyte.
    const long LargeImagePixels = 4096L * 4096;
    const long MaxExpansion = 2048;

    /// <summary>Reads an image file as RGB bytes, row-major (H, W, 3).</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not an image SkiaSharp can decode, is empty, or declares a side over <see cref="MaxSide"/>.</exception>
    public static (byte[] Rgb, int Height, int Width) LoadRgb(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"image not found: {path}", path);
        using var data = SKData.Create(path) ?? throw new InvalidDataException($"{path}: the file is empty or cannot be read");
        return DecodeRgb(data, path);
    }

    /// <summary>Decodes image bytes as RGB (H, W, 3); <paramref name="source"/> names them in errors.</summary>
    /// <exception cref="InvalidDataException">Not a decodable image, empty, or a side over <see cref="MaxSide"/>.</exception>
    public static (byte[] Rgb, int Height, int Width) DecodeRgb(SKData data, string source)
    {
        ArgumentNullException.ThrowIfNull(data);
        using var codec = SKCodec.Create(data) ?? throw new InvalidDataException($"{source}: not a readable image (PNG, JPEG, WebP, BMP or GIF)");
        var declared = codec.Info;
        if (declared.Width <= 0 || declared.Height <= 0) throw new InvalidDataException($"{source}: the image is empty ({declared.Width}x{declared.Height})");
        if (declared.Width > MaxSide || declared.Height > MaxSide)
            throw new InvalidDataException($"{source}: the image declares {declared.Width}x{declared.Height} pixels; at most {MaxSide} per side is supported");
        long pixels = (long)declared.Width * declared.Height;
        if (pixels > LargeImagePixels && pixels * 4 > MaxExpansion * data.Size)
            throw new InvalidDataException($"{source}: the image declares {declared.Width}x{declared.Height} pixels from only {data.Size} bytes, more than a real image compresses to");
        var info = new SKImageInfo(declared.Width, declared.Height, SKColorType.Rgba8888, SKAlphaType.Premul); // as SKBitmap.Decode did
        using var rgba = new SKBitmap(info);
        var result = codec.GetPixels(info, rgba.GetPixels());
        // IncompleteInput keeps what was decoded (the rest is zero), as SKBitmap.Decode does; anything else is an error.
        if (result is not (SKCodecResult.Success or SKCodecResult.IncompleteInput))
            throw new InvalidDataException($"{source}: cannot decode the image ({result})");
        var src = rgba.GetPixelSpan();
        var rgb = new byte[declared.Width * declared.Height * 3];
        for (int i = 0, j = 0; i < rgb.Length; i += 3, j += 4)
        {
            rgb[i] = src[j];
            rgb[i + 1] = src[j + 1];
            rgb[i + 2] = src[j + 2];
        }
        return (rgb, declared.Height, declared.Width);
    }

    /// <summary>Writes RGB bytes (H, W, 3) as a PNG, with optional <c>tEXt</c> entries (see <see cref="PngText"/>).</summary>
    public static void SaveRgb(byte[] rgb, int height, int width, string path, IReadOnlyDictionary<string, string>? text = null)
    {
        using var bitmap = new SKBitmap(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque);
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                int at = (y * width + x) * 3;
                bitmap.SetPixel(x, y, new SKColor(rgb[at], rgb[at + 1], rgb[at + 2]));
            }
        Save(bitmap, path, text);
    }

    /// <summary>Writes one image (3, H, W) in [0, 1] as an 8-bit PNG (round(x · 255), as diffusers' <c>numpy_to_pil</c>), with optional <c>tEXt</c> entries.</summary>
    public static void SaveRgb(Tensor image, string path, IReadOnlyDictionary<string, string>? text = null)
    {
        if (image.dim() != 3 || image.shape[0] != 3)
            throw new ArgumentException($"image must be (3, H, W); got {SharpVision.Nn.Shapes.Format(image)}", nameof(image));
        SaveRgb(ToBytes(image.unsqueeze(0), 0, 1), (int)image.shape[1], (int)image.shape[2], path, text);
    }

    /// <summary>Writes a binary mask (H, W) as a black-and-white PNG.</summary>
    public static void SaveMask(bool[] mask, int height, int width, string path)
    {
        using var bitmap = new SKBitmap(width, height, SKColorType.Gray8, SKAlphaType.Opaque);
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                bitmap.SetPixel(x, y, mask[y * width + x] ? SKColors.White : SKColors.Black);
        Save(bitmap, path);
    }

    /// <summary>Writes the image with the mask tinted over it, and optional prompt points (green positive, red negative) and box.</summary>
    public static void SaveOverlay(byte[] rgb, int height, int width, bool[] mask, string path,
        IReadOnlyList<(float X, float Y, int Label)>? points = null, (float X0, float Y0, float X1, float Y1)? box = null)
    {
        using var bitmap = new SKBitmap(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque);
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                int i = y * width + x, at = i * 3;
                byte r = rgb[at], g = rgb[at + 1], b = rgb[at + 2];
                if (mask[i]) { r = (byte)((r + 30) / 2); g = (byte)((g + 144) / 2); b = (byte)((b + 255) / 2); }
                bitmap.SetPixel(x, y, new SKColor(r, g, b));
            }
        using (var canvas = new SKCanvas(bitmap))
        {
            float radius = Math.Max(3, Math.Min(width, height) / 80f);
            using var stroke = new SKPaint { IsStroke = true, StrokeWidth = Math.Max(1, radius / 2), Color = SKColors.Yellow, IsAntialias = true };
            if (box is { } bx) canvas.DrawRect(SKRect.Create(bx.X0, bx.Y0, bx.X1 - bx.X0, bx.Y1 - bx.Y0), stroke);
            foreach (var p in points ?? [])
            {
                using var fill = new SKPaint { Color = p.Label == 1 ? SKColors.LimeGreen : SKColors.Red, IsAntialias = true };
                canvas.DrawCircle(p.X, p.Y, radius, fill);
                canvas.DrawCircle(p.X, p.Y, radius, new SKPaint { IsStroke = true, Color = SKColors.White, IsAntialias = true });
            }
        }
        Save(bitmap, path);
    }

    /// <summary>
    /// Writes the image with each mask alpha-blended over it in its own colour (hues a golden angle apart), in the
    /// order given, as segment-anything's notebooks draw automatic masks (largest first, alpha 0.35).
    /// </summary>
    /// <param name="masks">Row-major (H, W) masks, enumerated once (so they can be decoded one at a time).</param>
    public static void SaveMasksOverlay(byte[] rgb, int height, int width, IEnumerable<bool[]> masks, string path, double alpha = 0.35)
    {
        var blended = rgb.Select(v => (double)v).ToArray();
        int index = 0;
        foreach (var mask in masks)
        {
            var colour = SKColor.FromHsv(index++ * 137.508f % 360f, 85, 95);
            for (int i = 0; i < mask.Length; i++)
            {
                if (!mask[i]) continue;
                blended[3 * i] += alpha * (colour.Red - blended[3 * i]);
                blended[3 * i + 1] += alpha * (colour.Green - blended[3 * i + 1]);
                blended[3 * i + 2] += alpha * (colour.Blue - blended[3 * i + 2]);
            }
        }
        SaveRgb(blended.Select(v => (byte)Math.Clamp(Math.Round(v), 0, 255)).ToArray(), height, width, path);
    }

    static void Save(SKBitmap bitmap, string path, IReadOnlyDictionary<string, string>? text = null)
    {
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        if (text is null || text.Count == 0)
        {
            SharpVision.Nn.Checkpoints.AtomicFile.Write(path, s => data.SaveTo(s));
            return;
        }
        var png = PngText.Insert(data.ToArray(), text);
        SharpVision.Nn.Checkpoints.AtomicFile.Write(path, s => s.Write(png));
    }
}
