namespace SharpVision.Nn.Normalization;

/// <summary>torch.nn.BatchNorm1d: batch normalization of (N, C) or (N, C, L) inputs.</summary>
public sealed class BatchNorm1d : BatchNormBase
{
    /// <param name="numFeatures">C, the number of channels.</param>
    /// <param name="momentum">Weight of the newest batch in the running averages; null = cumulative average.</param>
    public BatchNorm1d(int numFeatures, double eps = 1e-5, double? momentum = 0.1, bool affine = true, bool trackRunningStats = true, ScalarType dtype = ScalarType.Float32)
        : base(nameof(BatchNorm1d), numFeatures, eps, momentum, affine, trackRunningStats, dtype)
    {
        RegisterComponents();
    }

    private protected override void CheckInput(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.dim() is < 2 or > 3 || input.shape[1] != num_features)
            throw new ArgumentException($"input must be (N, {num_features}) or (N, {num_features}, L); got {Shapes.Format(input)}", nameof(input));
    }
}
