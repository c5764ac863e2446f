namespace SharpVision.Segmentation.Sam;

/// <summary>
/// Pillow's bilinear resize of 8-bit images (<c>Image.resize(size, Image.BILINEAR)</c>), which
/// segment-anything's <c>ResizeLongestSide.apply_image</c> uses through torchvision. Reimplemented
/// from the algorithm of Pillow's libImaging/Resample.c:
/// <list type="number">
/// <item>Per output pixel x' along an axis, the source centre is c = (x' + 0.5)·s with s = in / out; the
/// triangle filter tri(t) = max(0, 1 − |t|) is stretched by f = max(s, 1), so shrinking averages
/// (antialiases) over a support of ±f source pixels: weights w_i = tri((i − c + 0.5) / f) for
/// i ∈ [⌊c − f + 0.5⌋, ⌊c + f + 0.5⌋), normalised to sum 1.</item>
/// <item>Weights become 22-bit fixed point (rounded half away from zero); each output sample is
/// (2²¹ + Σ wᵢ·pᵢ) >> 22 clamped to [0, 255].</item>
/// <item>The horizontal pass runs first and is rounded to 8 bits; the vertical pass reads it.</item>
/// </list>
/// </summary>
public static class PilResize
{
    const int PrecisionBits = 32 - 8 - 2;

    /// <summary>Resizes an interleaved 8-bit image.</summary>
    /// <param name="source">(height, width, channels) bytes, row-major.</param>
    /// <param name="height">Source height.</param>
    /// <param name="width">Source width.</param>
    /// <param name="channels">Interleaved channels (each resampled independently).</param>
    /// <param name="outHeight">Target height.</param>
    /// <param name="outWidth">Target width.</param>
    /// <returns>(outHeight, outWidth, channels) bytes.</returns>
    /// <exception cref="ArgumentException">A size is not positive or <paramref name="source"/> has the wrong length.</exception>
    public static byte[] Bilinear(ReadOnlySpan<byte> source, int height, int width, int channels, int outHeight, int outWidth)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(channels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outHeight);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outWidth);
        if (source.Length != (long)height * width * channels)
            throw new ArgumentException($"source must hold height*width*channels = {(long)height * width * channels} bytes; got {source.Length}", nameof(source));

        byte[] current = source.ToArray();
        int curWidth = width;
        if (outWidth != width)
        {
            var (bounds, weights, ksize) = Coefficients(width, outWidth);
            var temp = new byte[(long)height * outWidth * channels];
            for (int y = 0; y < height; y++)
            {
                int rowIn = y * width * channels, rowOut = y * outWidth * channels;
                for (int x = 0; x < outWidth; x++)
                {
                    int xmin = bounds[2 * x], count = bounds[2 * x + 1], k = x * ksize;
                    for (int ch = 0; ch < channels; ch++)
                    {
                        int ss = 1 << (PrecisionBits - 1);
                        for (int i = 0; i < count; i++) ss += current[rowIn + (xmin + i) * channels + ch] * weights[k + i];
                        temp[rowOut + x * channels + ch] = Clip8(ss);
                    }
                }
            }
            current = temp;
            curWidth = outWidth;
        }
        if (outHeight != height)
        {
            var (bounds, weights, ksize) = Coefficients(height, outHeight);
            var result = new byte[(long)outHeight * curWidth * channels];
            int stride = curWidth * channels;
            for (int y = 0; y < outHeight; y++)
            {
                int ymin = bounds[2 * y], count = bounds[2 * y + 1], k = y * ksize;
                for (int x = 0; x < stride; x++)
                {
                    int ss = 1 << (PrecisionBits - 1);
                    for (int i = 0; i < count; i++) ss += current[(ymin + i) * stride + x] * weights[k + i];
                    result[y * stride + x] = Clip8(ss);
                }
            }
            current = result;
        }
        return current;
    }

    static byte Clip8(int ss)
    {
        int v = ss >> PrecisionBits; // arithmetic shift: floor for negative sums, as Pillow
        return v < 0 ? (byte)0 : v > 255 ? (byte)255 : (byte)v;
    }

    /// <summary>Per output index: first source index and tap count (bounds), and fixed-point weights (ksize per index).</summary>
    static (int[] Bounds, int[] Weights, int Ksize) Coefficients(int inSize, int outSize)
    {
        double scale = (double)inSize / outSize;
        double filterScale = Math.Max(scale, 1.0);
        double support = 1.0 * filterScale; // the triangle filter's support is 1
        int ksize = (int)Math.Ceiling(support) * 2 + 1;
        var bounds = new int[2 * outSize];
        var weights = new int[outSize * ksize];
        var w = new double[ksize];
        for (int xx = 0; xx < outSize; xx++)
        {
            double center = (xx + 0.5) * scale;
            double inv = 1.0 / filterScale;
            int xmin = (int)(center - support + 0.5); // C truncation, as Pillow
            if (xmin < 0) xmin = 0;
            int xmax = (int)(center + support + 0.5);
            if (xmax > inSize) xmax = inSize;
            xmax -= xmin;
            double total = 0;
            for (int x = 0; x < xmax; x++)
            {
                double t = Math.Abs((x + xmin - center + 0.5) * inv);
                w[x] = t < 1.0 ? 1.0 - t : 0.0;
                total += w[x];
            }
            for (int x = 0; x < xmax; x++)
            {
                double normalised = total != 0.0 ? w[x] / total : w[x];
                double fixedPoint = normalised * (1 << PrecisionBits);
                weights[xx * ksize + x] = normalised < 0 ? (int)(-0.5 + fixedPoint) : (int)(0.5 + fixedPoint);
            }
            bounds[2 * xx] = xmin;
            bounds[2 * xx + 1] = xmax;
        }
        return (bounds, weights, ksize);
    }
}
