using TorchSharp.Modules;

namespace SharpVision.Tests.Training;

/// <summary>
/// TorchSharp's <c>torch.optim.AdamW</c>, which every trainer uses, follows torch.optim.AdamW (Loshchilov and Hutter 2019,
/// algorithm 2): decoupled weight decay θ ← θ(1 − lr·λ), bias-corrected moments, ε added outside the square root; its
/// saved state continues a run bit for bit.
/// </summary>
public sealed class AdamWTests
{
    const double Lr = 0.1, Decay = 0.2, Beta1 = 0.9, Beta2 = 0.999, Eps = 1e-3; // ε large enough to tell √v̂ + ε from √(v̂ + ε)
    static readonly double[] Start = [0.5, -1.5, 2.0, 0.25];

    /// <summary>Gradient of Σ c_i θ_i² + θ_i: 2 c_i θ_i + 1.</summary>
    static readonly double[] C = [1.0, 0.5, -0.3, 2.0];

    static void Backward(Parameter p)
    {
        using var c = tensor(C, dtype: ScalarType.Float64);
        using var loss = (c * p * p + p).sum();
        loss.backward();
    }

    static void Steps(Parameter p, optim.Optimizer optimizer, int steps)
    {
        for (int i = 0; i < steps; i++)
        {
            optimizer.zero_grad();
            Backward(p);
            optimizer.step();
        }
    }

    [Fact]
    public void StepsFollowTheDecoupledWeightDecayFormula()
    {
        using var p = new Parameter(tensor(Start, dtype: ScalarType.Float64));
        using var optimizer = optim.AdamW([p], lr: Lr, beta1: Beta1, beta2: Beta2, eps: Eps, weight_decay: Decay);
        Steps(p, optimizer, 3);

        var theta = (double[])Start.Clone();
        var m = new double[theta.Length];
        var v = new double[theta.Length];
        for (int t = 1; t <= 3; t++)
            for (int i = 0; i < theta.Length; i++)
            {
                double g = 2 * C[i] * theta[i] + 1;
                theta[i] *= 1 - Lr * Decay;
                m[i] = Beta1 * m[i] + (1 - Beta1) * g;
                v[i] = Beta2 * v[i] + (1 - Beta2) * g * g;
                double mHat = m[i] / (1 - Math.Pow(Beta1, t)), vHat = v[i] / (1 - Math.Pow(Beta2, t));
                theta[i] -= Lr * mHat / (Math.Sqrt(vHat) + Eps);
            }
        var actual = p.detach().data<double>().ToArray();
        for (int i = 0; i < theta.Length; i++)
            Assert.Equal(theta[i], actual[i], 12);
    }

    [Fact]
    public void AParameterWithoutAGradientIsLeftAlone()
    {
        using var p = new Parameter(tensor(Start, dtype: ScalarType.Float64));
        using var idle = new Parameter(tensor(Start, dtype: ScalarType.Float64));
        using var optimizer = optim.AdamW([p, idle], lr: Lr, weight_decay: Decay);
        Steps(p, optimizer, 2);
        Assert.Equal(Start, idle.detach().data<double>().ToArray());
    }

    [Fact]
    public void SavedStateContinuesBitForBit()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("adamw").FullName, "optimizer.bin");
        try
        {
            using var p = new Parameter(tensor(Start, dtype: ScalarType.Float32));
            using var optimizer = optim.AdamW([p], lr: Lr, eps: Eps, weight_decay: Decay);
            Steps(p, optimizer, 2);
            optimizer.save_state_dict(path);
            using var q = new Parameter(p.detach().clone());
            using var resumed = optim.AdamW([q], lr: Lr, eps: Eps, weight_decay: Decay);
            resumed.load_state_dict(path);
            Steps(p, optimizer, 3);
            Steps(q, resumed, 3);
            Assert.Equal(p.detach().data<float>().ToArray(), q.detach().data<float>().ToArray());
        }
        finally { Directory.Delete(Path.GetDirectoryName(path)!, recursive: true); }
    }
}
