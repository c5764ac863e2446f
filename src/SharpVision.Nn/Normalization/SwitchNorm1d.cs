using TorchSharp.Modules;

namespace SharpVision.Nn.Normalization;

/// <summary>
/// Switchable normalization for (N, C) features: a softmax-weighted mixture of layer statistics (over C, per
/// sample) and batch statistics (over N, per channel), both with the unbiased variance. Follows
/// switchablenorms/Switchable-Normalization devkit/ops/switchable_norm.py SwitchNorm1d and its parameter names and
/// shapes: <c>weight</c>/<c>bias</c> (1, C), <c>mean_weight</c>/<c>var_weight</c> (2), buffers
/// <c>running_mean</c>/<c>running_var</c> (1, C). Running averages as <see cref="SwitchNorm2d"/>.
/// </summary>
public sealed class SwitchNorm1d : nn.Module<Tensor, Tensor>, INormalizationLayer
{
    public readonly int num_features;
    public readonly double eps;
    public readonly double momentum;
    public readonly bool using_moving_average;
    public readonly Parameter weight;
    public readonly Parameter bias;
    public readonly Parameter mean_weight;
    public readonly Parameter var_weight;
    public readonly Tensor running_mean;
    public readonly Tensor running_var;

    /// <param name="numFeatures">C, the number of features.</param>
    /// <param name="momentum">Weight of the old running value (the reference's convention).</param>
    /// <param name="usingMovingAverage">Exponential running average; off = accumulate sums.</param>
    public SwitchNorm1d(int numFeatures, double eps = 1e-5, double momentum = 0.997, bool usingMovingAverage = true, ScalarType dtype = ScalarType.Float32)
        : base(nameof(SwitchNorm1d))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(numFeatures);
        ArgumentOutOfRangeException.ThrowIfNegative(eps);
        num_features = numFeatures;
        this.eps = eps;
        this.momentum = momentum;
        using_moving_average = usingMovingAverage;
        weight = new Parameter(ones(1, numFeatures, dtype: dtype));
        bias = new Parameter(zeros(1, numFeatures, dtype: dtype));
        mean_weight = new Parameter(ones(2, dtype: dtype));
        var_weight = new Parameter(ones(2, dtype: dtype));
        running_mean = zeros(1, numFeatures, dtype: dtype);
        running_var = zeros(1, numFeatures, dtype: dtype);
        RegisterComponents();
    }

    /// <param name="input">(N, C) with C = num_features.</param>
    /// <returns>The normalized input, same shape.</returns>
    /// <exception cref="ArgumentException">Wrong rank or feature count.</exception>
    public override Tensor forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.dim() != 2 || input.shape[1] != num_features)
            throw new ArgumentException($"input must be (N, {num_features}); got {Shapes.Format(input)}", nameof(input));

        using var scope = NewDisposeScope();
        var (varLn, meanLn) = var_mean(input, [1], unbiased: true, keepdim: true); // (N, 1)
        Tensor meanBn, varBn;                                                     // (1, C)
        if (training)
        {
            if (input.shape[0] < 2)
                throw new ArgumentException($"input must have at least two samples in training (batch variance); got {Shapes.Format(input)}", nameof(input));
            (varBn, meanBn) = var_mean(input, [0], unbiased: true, keepdim: true);
            using var noGrad = no_grad();
            if (using_moving_average)
            {
                running_mean.mul_(momentum).add_(meanBn.detach() * (1 - momentum));
                running_var.mul_(momentum).add_(varBn.detach() * (1 - momentum));
            }
            else
            {
                running_mean.add_(meanBn.detach());
                running_var.add_(meanBn.detach().square() + varBn.detach());
            }
        }
        else
        {
            meanBn = running_mean;
            varBn = running_var;
        }

        var meanMix = nn.functional.softmax(mean_weight, 0);
        var varMix = nn.functional.softmax(var_weight, 0);
        var mean = meanMix[0] * meanLn + meanMix[1] * meanBn;        // (N, C)
        var variance = varMix[0] * varLn + varMix[1] * varBn;        // (N, C)
        return ((input - mean) / (variance + eps).sqrt() * weight + bias).MoveToOuterDisposeScope();
    }
}
