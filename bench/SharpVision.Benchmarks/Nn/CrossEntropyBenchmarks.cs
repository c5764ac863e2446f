using BenchmarkDotNet.Attributes;
using SharpVision.Nn.Losses;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Benchmarks.Nn;

/// <summary>
/// Forward + backward of <see cref="CrossEntropyLoss.cross_entropy"/> (built from log_softmax) beside libtorch's
/// native cross_entropy, for (64, 10, 32, 32) logits with class weights and label smoothing (the slowest path).
/// </summary>
public class CrossEntropyBenchmarks
{
    Tensor input = null!, target = null!, weight = null!;

    [GlobalSetup]
    public void Setup()
    {
        torch.set_num_threads(1);
        manual_seed(0);
        input = randn(64, 10, 32, 32).requires_grad_(true);
        target = randint(0, 10, [64, 32, 32]);
        weight = rand(10) + 0.5;
    }

    void ForwardBackward(Func<Tensor> loss)
    {
        using var scope = NewDisposeScope();
        torch.autograd.grad([loss()], [input]);
    }

    [Benchmark(Baseline = true)]
    public void Native() => ForwardBackward(() =>
        nn.functional.cross_entropy(input, target, weight, ignore_index: 3, reduction: nn.Reduction.Mean, label_smoothing: 0.1));

    [Benchmark]
    public void FromLogSoftmax() => ForwardBackward(() =>
        CrossEntropyLoss.cross_entropy(input, target, weight, ignoreIndex: 3, reduction: Reduction.Mean, labelSmoothing: 0.1));
}
