using SharpVision.Nn;

namespace SharpVision.Diffusion.ControlNet;

/// <summary>
/// The Canny edge detector (Canny 1986, https://doi.org/10.1109/TPAMI.1986.4767851) exactly as OpenCV's <c>cv2.Canny</c>
/// computes it, the preprocessor of the ControlNet canny models (<c>cv2.Canny(image, 100, 200)</c>, no blur first).
/// Follows OpenCV 4.x <c>modules/imgproc/src/canny.cpp</c> and <c>color_rgb.simd.hpp</c>; integer arithmetic throughout,
/// so the result is bit-exact.
/// </summary>
/// <remarks>
/// <list type="number">
/// <item>Gradients: OpenCV's Sobel kernels (aperture 3: derivative (−1, 0, 1), smoothing (1, 2, 1); aperture 5:
/// (−1, −2, 0, 2, 1) and (1, 4, 6, 4, 1)), the border replicated. With several channels each pixel takes the gradient of
/// its channel of largest magnitude (the first on ties), as cv2.Canny does for a colour image.</item>
/// <item>Magnitude m = |gx| + |gy| (L1), or gx² + gy² compared against squared thresholds (L2).</item>
/// <item>Non-maximum suppression along the gradient direction, quantised to 0°, 45°, 90°, 135° with tan 22.5° as the
/// fixed point TG22 = round(0.41421356·2¹⁵) = 13573. A pixel survives when m is greater than its neighbour before it and
/// at least the one after it (horizontal and vertical), or greater than both (diagonals).</item>
/// <item>Double threshold: survivors with m &gt; high are edges, those with m &gt; low are edges when 8-connected to one
/// (hysteresis). Thresholds are floored to integers; low and high are swapped when low &gt; high.</item>
/// </list>
/// Pixels outside the image have magnitude 0 and are never edges.
/// </remarks>
public static class Canny
{
    /// <summary>The ControlNet canny annotator's low threshold.</summary>
    public const double DefaultLowThreshold = 100;

    /// <summary>The ControlNet canny annotator's high threshold.</summary>
    public const double DefaultHighThreshold = 200;

    /// <summary>Fixed-point shift of the direction test.</summary>
    const int Shift = 15;

    /// <summary>tan(22.5°) = √2 − 1 in 2¹⁵ fixed point, rounded: 13573.</summary>
    const int Tg22 = (int)(0.4142135623730950488 * (1 << Shift) + 0.5);

    /// <summary>Edges of an 8-bit image, as <c>cv2.Canny(image, low, high, apertureSize, L2gradient)</c>.</summary>
    /// <param name="image">(H, W, C) row-major bytes, channels interleaved (C = 1 for grey; RGB is not converted to grey,
    /// as cv2.Canny does not convert it: call <see cref="RgbToGray"/> first for the edges of the grey image).</param>
    /// <param name="lowThreshold">Hysteresis threshold for weak edges (magnitude units: a step of height h gives 4h with
    /// aperture 3, 48h with aperture 5, before the L2 square).</param>
    /// <param name="highThreshold">Threshold for strong edges.</param>
    /// <param name="apertureSize">Sobel aperture, 3 or 5.</param>
    /// <param name="l2Gradient">Euclidean magnitude instead of |gx| + |gy|.</param>
    /// <returns>(H, W) bytes, 255 on edges, 0 elsewhere.</returns>
    /// <exception cref="ArgumentException">The length is not height·width·channels, an aperture other than 3 or 5, or a
    /// NaN threshold.</exception>
    public static byte[] Detect(ReadOnlySpan<byte> image, int height, int width, int channels,
        double lowThreshold = DefaultLowThreshold, double highThreshold = DefaultHighThreshold, int apertureSize = 3, bool l2Gradient = false)
    {
        if (double.IsNaN(lowThreshold)) throw new ArgumentException("lowThreshold must be a number; got NaN", nameof(lowThreshold));
        if (double.IsNaN(highThreshold)) throw new ArgumentException("highThreshold must be a number; got NaN", nameof(highThreshold));
        var (magnitude, gx, gy) = Gradients(image, height, width, channels, apertureSize, l2Gradient);
        var (low, high) = IntegerThresholds(lowThreshold, highThreshold, l2Gradient);
        var state = Suppress(magnitude, gx, gy, height, width, low, high);
        Hysteresis(state, height, width);
        var edges = new byte[state.Length];
        for (int i = 0; i < edges.Length; i++) edges[i] = state[i] == Strong ? (byte)255 : (byte)0;
        return edges;
    }

    /// <summary>Edges of an 8-bit image tensor in OpenCV's layout.</summary>
    /// <param name="image">(H, W) or (H, W, C) uint8.</param>
    /// <returns>(H, W) uint8, 255 on edges, 0 elsewhere.</returns>
    /// <exception cref="ArgumentException">Not (H, W) or (H, W, C) uint8; see also
    /// <see cref="Detect(ReadOnlySpan{byte}, int, int, int, double, double, int, bool)"/>.</exception>
    public static Tensor Detect(Tensor image, double lowThreshold = DefaultLowThreshold, double highThreshold = DefaultHighThreshold,
        int apertureSize = 3, bool l2Gradient = false)
    {
        var (pixels, h, w, c) = Bytes(image);
        return tensor(Detect(pixels, h, w, c, lowThreshold, highThreshold, apertureSize, l2Gradient), [h, w], ScalarType.Byte);
    }

    /// <summary>
    /// The magnitude the thresholds are compared with: |gx| + |gy|, or gx² + gy² (the squared Euclidean norm) when
    /// <paramref name="l2Gradient"/>, of the channel with the largest.
    /// </summary>
    /// <param name="image">(H, W, C) row-major bytes.</param>
    /// <returns>(H, W) magnitudes.</returns>
    /// <exception cref="ArgumentException">The length is not height·width·channels, or an aperture other than 3 or 5.</exception>
    public static int[] Magnitude(ReadOnlySpan<byte> image, int height, int width, int channels, int apertureSize = 3, bool l2Gradient = false) =>
        Gradients(image, height, width, channels, apertureSize, l2Gradient).Magnitude;

    /// <summary>
    /// RGB to grey as <c>cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)</c> computes it for 8-bit images in OpenCV 4.x
    /// (<c>RGB2Gray&lt;uchar&gt;</c>): BT.601 weights in 2¹⁵ fixed point, Y = (9798·R + 19235·G + 3735·B + 2¹⁴) &gt;&gt; 15.
    /// </summary>
    /// <remarks>OpenCV 3.x and the YUV conversions use 2¹⁴ weights (4899, 9617, 1868), which round about one pixel in a
    /// thousand differently.</remarks>
    /// <param name="rgb">(H, W, 3) row-major bytes.</param>
    /// <returns>(H, W) bytes.</returns>
    /// <exception cref="ArgumentException">The length is not height·width·3.</exception>
    public static byte[] RgbToGray(ReadOnlySpan<byte> rgb, int height, int width)
    {
        RequireLength(rgb, height, width, 3, nameof(rgb));
        const int r2y = 9798, g2y = 19235, b2y = 3735, shift = 15; // round(0.299, 0.587, 0.114 times 2^15), summing to 2^15
        var gray = new byte[height * width];
        for (int i = 0; i < gray.Length; i++)
            gray[i] = (byte)((rgb[3 * i] * r2y + rgb[3 * i + 1] * g2y + rgb[3 * i + 2] * b2y + (1 << (shift - 1))) >> shift);
        return gray;
    }

    /// <summary>Pixel states of the suppression and hysteresis passes.</summary>
    const byte None = 0, Weak = 1, Strong = 2;

    /// <summary>Per pixel: the magnitude, and the gradient of the channel it came from.</summary>
    static (int[] Magnitude, int[] Gx, int[] Gy) Gradients(ReadOnlySpan<byte> image, int height, int width, int channels, int apertureSize, bool l2Gradient)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(channels);
        RequireLength(image, height, width, channels, nameof(image));
        var (derivative, smoothing) = apertureSize switch
        {
            3 => (new[] { -1, 0, 1 }, new[] { 1, 2, 1 }),
            5 => (new[] { -1, -2, 0, 2, 1 }, new[] { 1, 4, 6, 4, 1 }),
            _ => throw new ArgumentException($"apertureSize must be 3 or 5 (the Sobel apertures supported); got {apertureSize}", nameof(apertureSize)),
        };
        int n = height * width;
        var magnitude = new int[n];
        var gx = new int[n];
        var gy = new int[n];
        for (int c = 0; c < channels; c++)
        {
            var dx = Separable(image, height, width, channels, c, horizontal: derivative, vertical: smoothing);
            var dy = Separable(image, height, width, channels, c, horizontal: smoothing, vertical: derivative);
            for (int i = 0; i < n; i++)
            {
                int m = l2Gradient ? dx[i] * dx[i] + dy[i] * dy[i] : Math.Abs(dx[i]) + Math.Abs(dy[i]);
                if (c > 0 && m <= magnitude[i]) continue; // the first channel of the largest magnitude wins
                (magnitude[i], gx[i], gy[i]) = (m, dx[i], dy[i]);
            }
        }
        return (magnitude, gx, gy);
    }

    /// <summary>
    /// One channel filtered by the outer product of two integer kernels (vertical then horizontal pass), the border
    /// replicated (OpenCV's BORDER_REPLICATE: aaa|abcd|ddd). 8-bit input keeps every sum within OpenCV's int16 output.
    /// </summary>
    static int[] Separable(ReadOnlySpan<byte> image, int height, int width, int channels, int channel, int[] horizontal, int[] vertical)
    {
        int r = horizontal.Length / 2;
        var columns = new int[height * width];
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                int sum = 0;
                for (int k = 0; k < vertical.Length; k++)
                    sum += vertical[k] * image[(Math.Clamp(y + k - r, 0, height - 1) * width + x) * channels + channel];
                columns[y * width + x] = sum;
            }
        var result = new int[height * width];
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                int sum = 0;
                for (int k = 0; k < horizontal.Length; k++)
                    sum += horizontal[k] * columns[y * width + Math.Clamp(x + k - r, 0, width - 1)];
                result[y * width + x] = sum;
            }
        return result;
    }

    /// <summary>OpenCV's integer thresholds: ordered, squared for L2 (after clamping to 32767), floored.</summary>
    static (long Low, long High) IntegerThresholds(double low, double high, bool l2Gradient)
    {
        if (low > high) (low, high) = (high, low);
        if (l2Gradient)
        {
            low = Math.Min(32767.0, low);
            high = Math.Min(32767.0, high);
            if (low > 0) low *= low;
            if (high > 0) high *= high;
        }
        // Magnitudes lie in [0, int.MaxValue], so clamping to [-1, int.MaxValue] changes no comparison.
        static long Floor(double t) => (long)Math.Clamp(Math.Floor(t), -1.0, int.MaxValue);
        return (Floor(low), Floor(high));
    }

    /// <summary>Non-maximum suppression and the double threshold: each pixel None, Weak or Strong.</summary>
    static byte[] Suppress(int[] magnitude, int[] gx, int[] gy, int height, int width, long low, long high)
    {
        int At(int y, int x) => y < 0 || y >= height || x < 0 || x >= width ? 0 : magnitude[y * width + x];
        var state = new byte[height * width];
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                int i = y * width + x, m = magnitude[i];
                if (m <= low) continue;
                long ax = Math.Abs(gx[i]), ay = (long)Math.Abs(gy[i]) << Shift; // |gy| / |gx| compared with tan 22.5° and tan 67.5°
                long tg22x = ax * Tg22;
                long tg67x = tg22x + (ax << (Shift + 1)); // tan 67.5° = tan 22.5° + 2
                bool peak;
                if (ay < tg22x) peak = m > At(y, x - 1) && m >= At(y, x + 1); // gradient near horizontal: compare left, right
                else if (ay > tg67x) peak = m > At(y - 1, x) && m >= At(y + 1, x); // near vertical: above, below
                else
                {
                    int s = (gx[i] ^ gy[i]) < 0 ? -1 : 1; // signs differ: the 45° diagonal (up-right, down-left)
                    peak = m > At(y - 1, x - s) && m > At(y + 1, x + s);
                }
                if (peak) state[i] = m > high ? Strong : Weak;
            }
        return state;
    }

    /// <summary>Promotes every Weak pixel 8-connected to a Strong one (through other Weak pixels) to Strong.</summary>
    static void Hysteresis(byte[] state, int height, int width)
    {
        var stack = new Stack<int>();
        for (int i = 0; i < state.Length; i++)
            if (state[i] == Strong) stack.Push(i);
        while (stack.Count > 0)
        {
            int i = stack.Pop(), y = i / width, x = i % width;
            for (int ny = Math.Max(0, y - 1); ny <= Math.Min(height - 1, y + 1); ny++)
                for (int nx = Math.Max(0, x - 1); nx <= Math.Min(width - 1, x + 1); nx++)
                {
                    int j = ny * width + nx;
                    if (state[j] != Weak) continue;
                    state[j] = Strong;
                    stack.Push(j);
                }
        }
    }

    static void RequireLength(ReadOnlySpan<byte> pixels, int height, int width, int channels, string paramName)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(height);
        ArgumentOutOfRangeException.ThrowIfNegative(width);
        if ((long)height * width * channels != pixels.Length)
            throw new ArgumentException($"{paramName} must hold height*width*channels = {height}*{width}*{channels} = {(long)height * width * channels} bytes; got {pixels.Length}", paramName);
    }

    /// <summary>A (H, W) or (H, W, C) uint8 tensor's bytes and sizes.</summary>
    static (byte[] Pixels, int Height, int Width, int Channels) Bytes(Tensor image)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (image.dtype != ScalarType.Byte || image.dim() is not (2 or 3))
            throw new ArgumentException($"image must be (H, W) or (H, W, C) uint8; got {Shapes.Format(image)} {image.dtype}", nameof(image));
        int c = image.dim() == 3 ? (int)image.shape[2] : 1;
        using var cpu = image.detach().cpu().contiguous();
        var pixels = cpu.numel() == 0 ? [] : cpu.data<byte>().ToArray(); // TorchSharp's ToArray rejects empty tensors
        return (pixels, (int)image.shape[0], (int)image.shape[1], c);
    }
}
