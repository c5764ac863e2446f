using SharpVision.Nn.Checkpoints;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpVision.Segmentation.Training;

/// <summary>
/// AdamW (Loshchilov and Hutter 2019) over named parameters, with its moments exposed as a state_dict
/// (<c>exp_avg.NAME</c>, <c>exp_avg_sq.NAME</c>) so training can be saved and resumed exactly. Follows
/// torch.optim.AdamW's update (decoupled decay, bias-corrected moments, ε outside the square root).
/// </summary>
public sealed class AdamW : IDisposable
{
    readonly List<(string Name, Parameter Param)> parameters;
    readonly Dictionary<string, Tensor> expAvg = [], expAvgSq = [];

    /// <summary>Step size.</summary>
    public double LearningRate { get; set; }
    /// <summary>Decoupled weight decay.</summary>
    public double WeightDecay { get; }
    /// <summary>Moment decay rates.</summary>
    public (double Beta1, double Beta2) Betas { get; }
    /// <summary>Denominator guard.</summary>
    public double Eps { get; }
    /// <summary>Updates taken so far.</summary>
    public long Step { get; private set; }

    /// <param name="parameters">The trained parameters by state_dict name.</param>
    public AdamW(IEnumerable<(string Name, Parameter Param)> parameters, double learningRate, double weightDecay = 0.01,
        double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8)
    {
        this.parameters = parameters.ToList();
        LearningRate = learningRate;
        WeightDecay = weightDecay;
        Betas = (beta1, beta2);
        Eps = eps;
        foreach (var (name, p) in this.parameters)
        {
            expAvg[name] = zeros_like(p).DetachFromDisposeScope();
            expAvgSq[name] = zeros_like(p).DetachFromDisposeScope();
        }
    }

    /// <summary>Clears the gradients.</summary>
    public void ZeroGrad()
    {
        foreach (var (_, p) in parameters)
            if (p.grad is { } g) g.zero_();
    }

    /// <summary>One update from the current gradients (parameters without a gradient are left alone).</summary>
    public void StepUpdate()
    {
        Step++;
        var (b1, b2) = Betas;
        double c1 = 1 - Math.Pow(b1, Step), c2 = 1 - Math.Pow(b2, Step);
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        foreach (var (name, p) in parameters)
        {
            if (p.grad is not { } g) continue;
            p.mul_(1 - LearningRate * WeightDecay);
            expAvg[name].mul_(b1).add_(g, alpha: 1 - b1);
            expAvgSq[name].mul_(b2).addcmul_(g, g, value: 1 - b2);
            var denom = (expAvgSq[name] / c2).sqrt_().add_(Eps);
            p.addcdiv_(expAvg[name], denom, value: -LearningRate / c1);
        }
    }

    /// <summary>The moments as a state_dict (views of the live tensors).</summary>
    public Dictionary<string, Tensor> StateDict()
    {
        var d = new Dictionary<string, Tensor>();
        foreach (var (name, _) in parameters) { d["exp_avg." + name] = expAvg[name]; d["exp_avg_sq." + name] = expAvgSq[name]; }
        return d;
    }

    /// <summary>Restores moments and step count.</summary>
    /// <exception cref="InvalidDataException">A moment is missing or has the wrong shape.</exception>
    public void LoadStateDict(IReadOnlyDictionary<string, Tensor> state, long step, string source = "optimizer state")
    {
        using var noGrad = no_grad();
        foreach (var (name, p) in parameters)
            foreach (var (prefix, target) in new[] { ("exp_avg.", expAvg), ("exp_avg_sq.", expAvgSq) })
            {
                if (!state.TryGetValue(prefix + name, out var t) || !t.shape.SequenceEqual(p.shape))
                    throw new InvalidDataException($"{source}: {prefix}{name} is missing or not of shape ({string.Join(", ", p.shape)})");
                target[name].copy_(t);
            }
        Step = step;
    }

    /// <summary>Frees the moments.</summary>
    public void Dispose()
    {
        foreach (var t in expAvg.Values.Concat(expAvgSq.Values)) t.Dispose();
    }
}
