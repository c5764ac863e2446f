using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using SharpVision.Nn.Normalization;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Benchmarks.Nn;

/// <summary>
/// Forward + backward of each normalization layer at (64, 64, 32, 32) float32, beside libtorch's native functional
/// op for the same computation (the baseline of its category); SwitchNorm2d's baseline is native batch_norm, the
/// layer it generalises. Gradients are taken with autograd.grad for the input and the parameters, so nothing
/// accumulates between invocations. Run: <c>dotnet run -c Release --project bench/SharpVision.Benchmarks --
/// --filter '*NormBenchmarks*' --job short --iterationCount 9 --inProcess</c> (in process: BenchmarkDotNet's out-of-process build
/// copies libtorch without the GLIBCXX patch the repository's build applies, so it fails to load on Debian 12).
/// </summary>
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class NormBenchmarks
{
    const int N = 64, C = 64, H = 32, W = 32;
    Tensor x = null!, gradOutput = null!;
    Tensor weight = null!, bias = null!, runningMean = null!, runningVar = null!, lnWeight = null!, lnBias = null!;
    BatchNorm2d batchNorm = null!;
    LayerNorm layerNorm = null!;
    InstanceNorm2d instanceNorm = null!;
    GroupNorm groupNorm = null!;
    SwitchNorm2d switchNorm = null!;

    /// <summary>libtorch intra-op threads; 1 gives steadier ratios on a shared machine.</summary>
    [Params(1, 2)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        torch.set_num_threads(Threads);
        manual_seed(0);
        x = randn(N, C, H, W).requires_grad_(true);
        gradOutput = randn(N, C, H, W);
        weight = ones(C).requires_grad_(true);
        bias = zeros(C).requires_grad_(true);
        runningMean = zeros(C);
        runningVar = ones(C);
        lnWeight = ones(C, H, W).requires_grad_(true);
        lnBias = zeros(C, H, W).requires_grad_(true);
        batchNorm = new BatchNorm2d(C);
        layerNorm = new LayerNorm([C, H, W]);
        instanceNorm = new InstanceNorm2d(C, affine: true);
        groupNorm = new GroupNorm(32, C);
        switchNorm = new SwitchNorm2d(C);
        foreach (var m in new nn.Module[] { batchNorm, layerNorm, instanceNorm, groupNorm, switchNorm }) m.train();
    }

    /// <summary>One forward and the backward of <c>sum(output · gradOutput)</c> with respect to the inputs.</summary>
    void ForwardBackward(Func<Tensor> forward, params Tensor[] inputs)
    {
        using var scope = NewDisposeScope();
        var output = forward();
        torch.autograd.grad([output], inputs, [gradOutput]);
    }

    Tensor[] With(nn.Module module) => [x, .. module.parameters()];

    [Benchmark(Baseline = true), BenchmarkCategory("BatchNorm2d")]
    public void NativeBatchNorm() =>
        ForwardBackward(() => nn.functional.batch_norm(x, runningMean, runningVar, weight, bias, true, 0.1, 1e-5), x, weight, bias);

    [Benchmark, BenchmarkCategory("BatchNorm2d")]
    public void BatchNorm2d() => ForwardBackward(() => batchNorm.forward(x), With(batchNorm));

    [Benchmark(Baseline = true), BenchmarkCategory("LayerNorm")]
    public void NativeLayerNorm() =>
        ForwardBackward(() => nn.functional.layer_norm(x, [C, H, W], lnWeight, lnBias, 1e-5), x, lnWeight, lnBias);

    [Benchmark, BenchmarkCategory("LayerNorm")]
    public void LayerNorm() => ForwardBackward(() => layerNorm.forward(x), With(layerNorm));

    [Benchmark(Baseline = true), BenchmarkCategory("InstanceNorm2d")]
    public void NativeInstanceNorm() =>
        ForwardBackward(() => nn.functional.instance_norm(x, null, null, weight, bias, true, 0.1, 1e-5), x, weight, bias);

    [Benchmark, BenchmarkCategory("InstanceNorm2d")]
    public void InstanceNorm2d() => ForwardBackward(() => instanceNorm.forward(x), With(instanceNorm));

    [Benchmark(Baseline = true), BenchmarkCategory("GroupNorm")]
    public void NativeGroupNorm() =>
        ForwardBackward(() => nn.functional.group_norm(x, 32, weight, bias, 1e-5), x, weight, bias);

    [Benchmark, BenchmarkCategory("GroupNorm")]
    public void GroupNorm() => ForwardBackward(() => groupNorm.forward(x), With(groupNorm));

    [Benchmark(Baseline = true), BenchmarkCategory("SwitchNorm2d")]
    public void NativeBatchNormForSwitch() =>
        ForwardBackward(() => nn.functional.batch_norm(x, runningMean, runningVar, weight, bias, true, 0.1, 1e-5), x, weight, bias);

    [Benchmark, BenchmarkCategory("SwitchNorm2d")]
    public void SwitchNorm2d() => ForwardBackward(() => switchNorm.forward(x), With(switchNorm));
}
