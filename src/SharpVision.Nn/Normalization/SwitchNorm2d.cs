using TorchSharp.Modules;

namespace SharpVision.Nn.Normalization;

/// <summary>
/// Switchable normalization (Luo et al. 2019, arXiv:1806.10779) for (N, C, H, W): the mean and variance are
/// softmax-weighted mixtures of instance (IN), layer (LN) and batch (BN) statistics, with the mixture weights
/// learned. Follows switchablenorms/Switchable-Normalization devkit/ops/switchable_norm.py SwitchNorm2d, with its
/// parameter names and shapes so its checkpoints load: <c>weight</c>/<c>bias</c> (1, C, 1, 1),
/// <c>mean_weight</c>/<c>var_weight</c> (3), or (2) without BN, and buffers <c>running_mean</c>/<c>running_var</c>
/// (1, C, 1) when using BN.
/// </summary>
/// <remarks>
/// As the reference: IN statistics are the per-(sample, channel) mean and unbiased variance over (H, W); LN and BN
/// statistics are derived from them (mean of the means, mean of var + mean² minus the squared mean), so the input
/// is reduced once. The running averages use running = momentum · running + (1 − momentum) · batch (note: the
/// opposite convention to torch's BatchNorm), or, with <c>using_moving_average</c> off, accumulate the sums of
/// the batch mean and of mean² + variance, which eval then uses as they are.
/// </remarks>
public sealed class SwitchNorm2d : nn.Module<Tensor, Tensor>, INormalizationLayer
{
    public readonly int num_features;
    public readonly double eps;
    public readonly double momentum;
    public readonly bool using_moving_average;
    public readonly bool using_bn;
    public readonly bool last_gamma;
    public readonly Parameter weight;
    public readonly Parameter bias;
    public readonly Parameter mean_weight;
    public readonly Parameter var_weight;
    public readonly Tensor? running_mean;
    public readonly Tensor? running_var;

    /// <param name="numFeatures">C, the number of channels.</param>
    /// <param name="momentum">Weight of the old running value (the reference's convention).</param>
    /// <param name="usingMovingAverage">Exponential running average; off = accumulate sums.</param>
    /// <param name="usingBn">Mix in batch statistics (three-way mixture) or only IN and LN (two-way).</param>
    /// <param name="lastGamma">Initialise <c>weight</c> to zeros (for the last norm of a residual block).</param>
    public SwitchNorm2d(int numFeatures, double eps = 1e-5, double momentum = 0.9, bool usingMovingAverage = true,
        bool usingBn = true, bool lastGamma = false, ScalarType dtype = ScalarType.Float32)
        : base(nameof(SwitchNorm2d))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(numFeatures);
        ArgumentOutOfRangeException.ThrowIfNegative(eps);
        num_features = numFeatures;
        this.eps = eps;
        this.momentum = momentum;
        using_moving_average = usingMovingAverage;
        using_bn = usingBn;
        last_gamma = lastGamma;
        weight = new Parameter(lastGamma ? zeros(1, numFeatures, 1, 1, dtype: dtype) : ones(1, numFeatures, 1, 1, dtype: dtype));
        bias = new Parameter(zeros(1, numFeatures, 1, 1, dtype: dtype));
        int sources = usingBn ? 3 : 2;
        mean_weight = new Parameter(ones(sources, dtype: dtype));
        var_weight = new Parameter(ones(sources, dtype: dtype));
        if (usingBn)
        {
            running_mean = zeros(1, numFeatures, 1, dtype: dtype);
            running_var = zeros(1, numFeatures, 1, dtype: dtype);
        }
        RegisterComponents();
    }

    /// <param name="input">(N, C, H, W) with C = num_features.</param>
    /// <returns>The normalized input, same shape.</returns>
    /// <exception cref="ArgumentException">Wrong rank or channel count, or a single position per channel.</exception>
    public override Tensor forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.dim() != 4 || input.shape[1] != num_features)
            throw new ArgumentException($"input must be (N, {num_features}, H, W); got {Shapes.Format(input)}", nameof(input));
        long n = input.shape[0], c = input.shape[1];
        if (input.shape[2] * input.shape[3] < 2)
            throw new ArgumentException($"input must have at least two positions per channel for the unbiased variance; got {Shapes.Format(input)}", nameof(input));

        using var scope = NewDisposeScope();
        var x = input.reshape(n, c, -1);                                         // (N, C, HW)
        var (meanIn, varIn) = InstanceMoments(x);                               // (N, C, 1) each
        var meanLn = meanIn.mean([1], keepdim: true);                           // (N, 1, 1)
        var secondMoment = varIn + meanIn.square();                             // (N, C, 1)
        var varLn = secondMoment.mean([1], keepdim: true) - meanLn.square();    // (N, 1, 1)

        var meanMix = nn.functional.softmax(mean_weight, 0);
        var varMix = nn.functional.softmax(var_weight, 0);
        var mean = meanMix[0] * meanIn + meanMix[1] * meanLn;                   // (N, C, 1)
        var variance = varMix[0] * varIn + varMix[1] * varLn;
        if (using_bn)
        {
            Tensor meanBn, varBn;                                               // (1, C, 1)
            if (training)
            {
                meanBn = meanIn.mean([0], keepdim: true);
                varBn = secondMoment.mean([0], keepdim: true) - meanBn.square();
                UpdateRunningStatistics(meanBn, varBn);
            }
            else
            {
                meanBn = running_mean!;
                varBn = running_var!;
            }
            mean = mean + meanMix[2] * meanBn;
            variance = variance + varMix[2] * varBn;
        }

        // (x - mean) / sqrt(var + eps) * weight + bias, folded into one scale and shift per (sample, channel):
        // two passes over the full-size tensor forward, and autograd's mul/add backward (g·scale, Σ g·x, Σ g).
        var scale = weight.view(1, c, 1) * (variance + eps).rsqrt();           // (N, C, 1)
        var shift = bias.view(1, c, 1) - mean * scale;                          // (N, C, 1)
        return (x * scale).add_(shift).view(input.shape).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Per-(sample, channel) mean and unbiased variance over the last dim of <paramref name="x"/> (N, C, L), two-pass
    /// like the reference's x.var. The centred sum of squares takes the mean detached: its derivative through the
    /// mean, −2 Σ (x − mean), is zero, so the gradient is unchanged and autograd skips a full-size reduction.
    /// libtorch's var_mean (Welford) is several times slower on CPU at this layout, forward and backward.
    /// </summary>
    static (Tensor Mean, Tensor Variance) InstanceMoments(Tensor x)
    {
        var mean = x.mean([-1], keepdim: true);                                              // (N, C, 1)
        var norm = linalg.vector_norm(x - mean.detach(), 2, [-1], keepdim: true);            // (N, C, 1)
        return (mean, norm.square() / (x.shape[^1] - 1));
    }

    void UpdateRunningStatistics(Tensor meanBn, Tensor varBn)
    {
        using var noGrad = no_grad();
        if (using_moving_average)
        {
            running_mean!.mul_(momentum).add_(meanBn.detach() * (1 - momentum));
            running_var!.mul_(momentum).add_(varBn.detach() * (1 - momentum));
        }
        else
        {
            running_mean!.add_(meanBn.detach());
            running_var!.add_(meanBn.detach().square() + varBn.detach());
        }
    }
}
