namespace SharpVision.Experiments.Sam;

/// <summary>A click: pixel coordinates and label (1 foreground, 0 background).</summary>
public readonly record struct PromptPoint(int X, int Y, int Label);

/// <summary>
/// Prompt simulation of the SAM paper's training (Kirillov et al. 2023, appendix A "Training algorithm"):
/// a point drawn uniformly from the ground-truth mask, a box around the mask with noise of standard
/// deviation 10% of the box side (at most 20 px) per coordinate, and correction clicks drawn uniformly
/// from the error region of the previous prediction — a false negative gives a positive click, a false
/// positive a negative one.
/// </summary>
public static class PromptSampler
{
    /// <summary>A random pixel of <paramref name="mask"/>, labelled foreground.</summary>
    /// <exception cref="ArgumentException">The mask is empty.</exception>
    public static PromptPoint PointInside(bool[] mask, int size, Random rng)
    {
        var p = Pick(mask, rng) ?? throw new ArgumentException("mask is empty", nameof(mask));
        return new PromptPoint(p % size, p / size, 1);
    }

    /// <summary>The tight box of <paramref name="mask"/> with each coordinate moved by N(0, (0.1·side)²) clipped to ±<paramref name="maxNoise"/>, then to the canvas.</summary>
    public static PixelBox NoisyBox(bool[] mask, int size, Random rng, double relativeStd = 0.1, double maxNoise = 20)
    {
        var b = FashionMnistScenes.TightBox(mask, size);
        double Noise(double side) => Math.Clamp(Gaussian(rng) * relativeStd * side, -maxNoise, maxNoise);
        double x0 = b.X0 + Noise(b.Width), x1 = b.X1 + Noise(b.Width), y0 = b.Y0 + Noise(b.Height), y1 = b.Y1 + Noise(b.Height);
        (x0, x1) = (Math.Min(x0, x1), Math.Max(x0, x1));
        (y0, y1) = (Math.Min(y0, y1), Math.Max(y0, y1));
        return new PixelBox(Math.Clamp(x0, 0, size - 1), Math.Clamp(y0, 0, size - 1), Math.Clamp(x1, 0, size - 1), Math.Clamp(y1, 0, size - 1));
    }

    /// <summary>
    /// A correction click drawn uniformly from the pixels where <paramref name="predicted"/> and
    /// <paramref name="truth"/> disagree: positive where the object was missed, negative where the
    /// prediction spilled over. Null when the prediction is exact.
    /// </summary>
    public static PromptPoint? CorrectionClick(bool[] predicted, bool[] truth, int size, Random rng)
    {
        if (predicted.Length != truth.Length) throw new ArgumentException($"predicted has {predicted.Length} pixels, truth {truth.Length}", nameof(predicted));
        var error = new bool[truth.Length];
        for (int i = 0; i < error.Length; i++) error[i] = predicted[i] != truth[i];
        var p = Pick(error, rng);
        if (p is not int at) return null;
        return new PromptPoint(at % size, at / size, truth[at] ? 1 : 0);
    }

    /// <summary>A standard normal draw (Box–Muller).</summary>
    public static double Gaussian(Random rng)
    {
        double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    static int? Pick(bool[] set, Random rng)
    {
        int count = set.Count(v => v);
        if (count == 0) return null;
        int k = rng.Next(count);
        for (int i = 0; i < set.Length; i++)
            if (set[i] && k-- == 0) return i;
        return null;
    }
}
