using TorchSharp.Modules;

namespace SharpVision.Nn.Normalization;

/// <summary>
/// torch.nn.LayerNorm (Ba et al. 2016): each sample normalized over the trailing <c>normalized_shape</c> dims by
/// their mean and biased variance, then an elementwise affine of that shape (<c>weight</c> ones, <c>bias</c>
/// zeros). Over (C, H, W) this is <see cref="GroupNorm.AsLayerNorm"/> (one group) up to the affine's shape.
/// Same statistics in train and eval; libtorch's native layer_norm does the arithmetic.
/// </summary>
public sealed class LayerNorm : nn.Module<Tensor, Tensor>, INormalizationLayer
{
    public readonly long[] normalized_shape;
    public readonly double eps;
    public readonly bool elementwise_affine;
    public readonly Parameter? weight;
    public readonly Parameter? bias;

    /// <param name="normalizedShape">The trailing dims to normalize over, e.g. [C, H, W] or [D].</param>
    public LayerNorm(long[] normalizedShape, double eps = 1e-5, bool elementwiseAffine = true, ScalarType dtype = ScalarType.Float32)
        : base(nameof(LayerNorm))
    {
        ArgumentNullException.ThrowIfNull(normalizedShape);
        if (normalizedShape.Length == 0 || normalizedShape.Any(d => d <= 0))
            throw new ArgumentException($"normalized_shape must be one or more positive sizes; got {Shapes.Format(normalizedShape)}", nameof(normalizedShape));
        normalized_shape = (long[])normalizedShape.Clone();
        this.eps = eps;
        elementwise_affine = elementwiseAffine;
        if (elementwiseAffine)
        {
            weight = new Parameter(ones(normalized_shape, dtype: dtype));
            bias = new Parameter(zeros(normalized_shape, dtype: dtype));
        }
        RegisterComponents();
    }

    /// <summary>LayerNorm over the last dim only, e.g. a transformer's feature size.</summary>
    public LayerNorm(long normalizedSize, double eps = 1e-5, bool elementwiseAffine = true, ScalarType dtype = ScalarType.Float32)
        : this([normalizedSize], eps, elementwiseAffine, dtype) { }

    /// <param name="input">(*, normalized_shape).</param>
    /// <returns>The normalized input, same shape.</returns>
    /// <exception cref="ArgumentException">The trailing dims differ from normalized_shape.</exception>
    public override Tensor forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        int k = normalized_shape.Length;
        if (input.dim() < k || !input.shape.AsSpan(input.shape.Length - k).SequenceEqual(normalized_shape))
            throw new ArgumentException($"input must be (*, {string.Join(", ", normalized_shape)}); got {Shapes.Format(input)}", nameof(input));
        return nn.functional.layer_norm(input, normalized_shape, weight, bias, eps);
    }
}
