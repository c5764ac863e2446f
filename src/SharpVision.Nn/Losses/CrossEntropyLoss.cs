namespace SharpVision.Nn.Losses;

/// <summary>
/// Softmax cross-entropy between logits and class indices or class probabilities, equal to
/// <c>torch.nn.functional.cross_entropy</c> (aten/src/ATen/native/LossNLL.cpp: cross_entropy_loss and its
/// label-smoothing and probability-target paths), built from <c>log_softmax</c> so large logits stay finite
/// (log-sum-exp) and gradients come from autograd.
/// </summary>
/// <remarks>
/// With log-probabilities <c>ℓ = log_softmax(x)</c> over the class dim, class weights <c>w</c> (ones if not given),
/// C classes and smoothing ε:
/// <list type="bullet">
/// <item>Index targets y: nll_i = −w[y_i] ℓ_i[y_i], smooth_i = −Σ_c w[c] ℓ_i[c], both 0 where y_i = ignore_index;
/// loss = (1 − ε) · reduce(nll) + ε / C · reduce(smooth), where "mean" divides both sums by Σ w[y_i] over the kept
/// elements (by their count without weights).</item>
/// <item>Probability targets p (same shape as the input): p' = (1 − ε) p + ε / C, loss_i = −Σ_c w[c] p'_c ℓ_i[c];
/// "mean" divides by the number of elements N·d1·…·dk, whatever the weights.</item>
/// </list>
/// </remarks>
public sealed class CrossEntropyLoss : nn.Module<Tensor, Tensor, Tensor>
{
    /// <summary>(C) class weights, or null; a buffer, as torch's <c>weight</c>.</summary>
    public readonly Tensor? weight;
    public readonly long ignore_index;
    public readonly Reduction reduction;
    public readonly double label_smoothing;

    /// <param name="weight">(C) class weights, or null for equal weights.</param>
    /// <param name="ignoreIndex">Class index whose targets contribute nothing (index targets only).</param>
    /// <param name="labelSmoothing">ε in [0, 1]: the target mixes with the uniform distribution.</param>
    public CrossEntropyLoss(Tensor? weight = null, long ignoreIndex = -100, Reduction reduction = Reduction.Mean, double labelSmoothing = 0.0)
        : base(nameof(CrossEntropyLoss))
    {
        CheckOptions(weight, labelSmoothing);
        this.weight = weight?.detach().clone();
        ignore_index = ignoreIndex;
        this.reduction = reduction;
        label_smoothing = labelSmoothing;
        RegisterComponents();
    }

    /// <param name="input">Logits: (C), (N, C) or (N, C, d1, …, dk).</param>
    /// <param name="target">Class indices (int64): (), (N) or (N, d1, …, dk); or class probabilities of the input's shape.</param>
    /// <returns>A scalar for "mean"/"sum"; the per-element losses (the target's batch shape) for "none".</returns>
    public override Tensor forward(Tensor input, Tensor target) =>
        cross_entropy(input, target, weight, ignore_index, reduction, label_smoothing);

    /// <summary>The functional form, as <c>torch.nn.functional.cross_entropy</c>.</summary>
    /// <param name="input">Logits: (C), (N, C) or (N, C, d1, …, dk).</param>
    /// <param name="target">Class indices (integer): (), (N) or (N, d1, …, dk); or class probabilities (floating) of the input's shape.</param>
    /// <param name="weight">(C) class weights, or null.</param>
    /// <param name="ignoreIndex">Index targets equal to it contribute nothing; must be negative for probability targets (as torch).</param>
    /// <param name="reduction">none, mean or sum.</param>
    /// <param name="labelSmoothing">ε in [0, 1].</param>
    /// <exception cref="ArgumentException">Shapes that do not match, a class index out of range, or a bad option.</exception>
    public static Tensor cross_entropy(Tensor input, Tensor target, Tensor? weight = null, long ignoreIndex = -100,
        Reduction reduction = Reduction.Mean, double labelSmoothing = 0.0)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(target);
        CheckOptions(weight, labelSmoothing);
        if (input.dim() == 0 || !input.is_floating_point())
            throw new ArgumentException($"input must be floating logits (C), (N, C) or (N, C, d1, ...); got {input.dtype} {Shapes.Format(input)}", nameof(input));
        int classDim = input.dim() == 1 ? 0 : 1;
        long classes = input.shape[classDim];
        if (weight is not null && (weight.dim() != 1 || weight.shape[0] != classes))
            throw new ArgumentException($"weight must be ({classes}); got {Shapes.Format(weight)}", nameof(weight));

        using var scope = NewDisposeScope();
        var w = weight?.to(input.dtype, input.device);
        var logProbabilities = nn.functional.log_softmax(input, classDim);
        // (C) weights broadcast along the class dim of the input: (1, C, 1, ..., 1), or (C) unbatched.
        var broadcastWeight = w?.view([.. Enumerable.Range(0, (int)input.dim()).Select(d => d == classDim ? classes : 1L)]);

        Tensor loss;
        if (target.shape.SequenceEqual(input.shape) && target.is_floating_point())
        {
            if (ignoreIndex >= 0)
                throw new ArgumentException($"ignore_index is not supported for probability targets; got {ignoreIndex}", nameof(ignoreIndex));
            loss = ProbabilityTargetLoss(logProbabilities, target.to(input.dtype), broadcastWeight, classDim, classes, reduction, labelSmoothing);
        }
        else
        {
            long[] expected = [.. input.shape.Where((_, d) => d != classDim)];
            if (!target.shape.SequenceEqual(expected) || target.is_floating_point() || target.dtype == ScalarType.Bool)
                throw new ArgumentException(
                    $"target must be integer class indices {Shapes.Format(expected)} or floating probabilities {Shapes.Format(input)}; got {target.dtype} {Shapes.Format(target)}",
                    nameof(target));
            loss = IndexTargetLoss(logProbabilities, target.to(ScalarType.Int64), w, broadcastWeight, classDim, classes, ignoreIndex, reduction, labelSmoothing);
        }
        return loss.MoveToOuterDisposeScope();
    }

    static Tensor IndexTargetLoss(Tensor logProbabilities, Tensor target, Tensor? weight, Tensor? broadcastWeight,
        int classDim, long classes, long ignoreIndex, Reduction reduction, double smoothing)
    {
        var ignored = target.eq(ignoreIndex);
        var outOfRange = (target.lt(0) | target.ge(classes)) & ignored.logical_not();
        if (outOfRange.any().item<bool>())
        {
            long bad = target.masked_select(outOfRange)[0].item<long>();
            throw new ArgumentException($"target class indices must be in [0, {classes}) or ignore_index {ignoreIndex}; got {bad}", nameof(target));
        }
        var safeTarget = target.masked_fill(ignored, 0);                  // target's shape; ignored -> class 0
        // ℓ_i[y_i]: (N, d1, ...) picked along the class dim
        var picked = logProbabilities.gather(classDim, safeTarget.unsqueeze(classDim)).squeeze(classDim);
        // w[y_i], zero where ignored: the per-element weights and the "mean" denominator
        var targetWeight = (weight is null ? ones_like(picked) : weight[safeTarget]).masked_fill(ignored, 0);
        var nll = -(picked * targetWeight);
        var denominator = targetWeight.sum();
        var nllLoss = Reduce(nll, reduction, denominator);
        if (smoothing == 0.0) return nllLoss;

        var weighted = broadcastWeight is null ? logProbabilities : logProbabilities * broadcastWeight;
        var smooth = -weighted.sum(classDim).masked_fill(ignored, 0);    // target's shape
        var smoothLoss = Reduce(smooth, reduction, denominator);
        return (1 - smoothing) * nllLoss + smoothLoss * (smoothing / classes);
    }

    static Tensor ProbabilityTargetLoss(Tensor logProbabilities, Tensor target, Tensor? broadcastWeight,
        int classDim, long classes, Reduction reduction, double smoothing)
    {
        var p = smoothing > 0 ? target * (1 - smoothing) + smoothing / classes : target;
        var product = logProbabilities * p;
        if (broadcastWeight is not null) product = product * broadcastWeight;
        return reduction switch
        {
            Reduction.None => -product.sum(classDim),
            Reduction.Sum => -product.sum(),
            // torch divides by the number of elements N·d1·…·dk, not by the weights; NaN when empty.
            _ => -product.sum() / (logProbabilities.numel() / classes),
        };
    }

    static Tensor Reduce(Tensor values, Reduction reduction, Tensor meanDenominator) => reduction switch
    {
        Reduction.None => values,
        Reduction.Sum => values.sum(),
        Reduction.Mean => values.sum() / meanDenominator,
        _ => throw new ArgumentOutOfRangeException(nameof(reduction), reduction, "reduction must be None, Mean or Sum"),
    };

    static void CheckOptions(Tensor? weight, double labelSmoothing)
    {
        if (!(labelSmoothing >= 0 && labelSmoothing <= 1))
            throw new ArgumentOutOfRangeException(nameof(labelSmoothing), labelSmoothing, "label_smoothing must be in [0, 1]");
        if (weight is not null && weight.dim() != 1)
            throw new ArgumentException($"weight must be (C); got {Shapes.Format(weight)}", nameof(weight));
    }
}
