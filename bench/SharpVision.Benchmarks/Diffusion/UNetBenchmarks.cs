using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;
using SharpVision.Benchmarks.Measurement;
using SharpVision.Diffusion.Models;
using SharpVision.Diffusion.Pipelines;
using SharpVision.Diffusion.Schedulers;
using SharpVision.Nn.Flops;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Benchmarks.Diffusion;

/// <summary>
/// UNet2DModel training step (forward + MSE + backward) and inference forward at batch 64, 32×32, one channel, in the
/// small configuration the Fashion-MNIST training will use, beside a large fp32 matmul measured in the same run as the
/// machine's reachable GFLOP/s. Columns: images/s and achieved GFLOP/s.
/// </summary>
/// <remarks>
/// FLOPs are counted, not guessed (<see cref="FlopCounter"/>): one forward pass with hooks on every Conv2d and Linear (2 · output elements ·
/// fan-in) and every Attention (the two attention matmuls, 4 · B · N · M · inner). A training step is counted as
/// 3× the forward (the backward computes input and weight gradients, each as costly as the forward); normalisation,
/// activations and additions are not counted. Run e.g.
/// <c>dotnet run -c Release --project bench/SharpVision.Benchmarks -- --filter '*UNet*' --job short</c>.
/// </remarks>
[Config(typeof(Columns))]
public class UNetBenchmarks
{
    public const int Batch = 64, Size = 32, MatmulN = 2048;

    /// <summary>FLOPs and images of one invocation of each benchmark, filled in by setup, read by the columns.</summary>
    static readonly Dictionary<string, Work> Recorded = [];

    public const int SampleBatch = 16, SampleSteps = 50;

    UNet2DModel model = null!;
    DDIMPipeline sampler = null!;
    Tensor x = null!, noise = null!, t = null!, a = null!, b = null!;

    /// <summary>The configuration `sharpvision diffusion train` uses by default (widths 32, 64, 64, attention at the lowest level).</summary>
    public static UNet2DModelConfig TrainingConfig => SharpVision.Experiments.Diffusion.FashionMnistDiffusionData.ModelConfig([32, 64, 64]);

    [GlobalSetup]
    public void Setup()
    {
        torch.manual_seed(0);
        model = new UNet2DModel(TrainingConfig);
        x = randn(Batch, 1, Size, Size);
        noise = randn(Batch, 1, Size, Size);
        t = randint(0, 1000, [Batch], dtype: ScalarType.Int64);
        a = randn(MatmulN, MatmulN);
        b = randn(MatmulN, MatmulN);
        double forward = CountForwardFlops(model, x, t);
        Recorded[nameof(TrainStep)] = new(3 * forward, Batch);
        Recorded[nameof(Forward)] = new(forward, Batch);
        Recorded[nameof(Matmul)] = new(2.0 * MatmulN * MatmulN * MatmulN, 0);
        sampler = new DDIMPipeline(model, new DDIMScheduler());
        using (var sixteen = x.narrow(0, 0, SampleBatch)) Recorded[nameof(Ddim50Batch16)] = new(SampleSteps * CountForwardFlops(model, sixteen, t.narrow(0, 0, SampleBatch)), SampleBatch);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        model.Dispose();
        foreach (var tensor in new[] { x, noise, t, a, b }) tensor.Dispose();
    }

    /// <summary>One optimisation step's compute: forward, MSE to the noise, backward (gradients cleared first).</summary>
    [Benchmark]
    public float TrainStep()
    {
        using var scope = torch.NewDisposeScope();
        model.train();
        model.zero_grad();
        var loss = nn.functional.mse_loss(model.forward(x, t, null), noise);
        loss.backward();
        return loss.item<float>();
    }

    /// <summary>Inference forward without autograd.</summary>
    [Benchmark]
    public float Forward()
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        model.eval();
        return model.forward(x, t, null)[0, 0, 0, 0].item<float>();
    }

    /// <summary>A 50-step deterministic DDIM sample of 16 images (the pipeline, scheduler steps included).</summary>
    [Benchmark]
    public float Ddim50Batch16()
    {
        using var images = sampler.Sample(new SamplingOptions(Count: SampleBatch, Steps: SampleSteps, Seed: 1));
        return images[0, 0, 0, 0].item<float>();
    }

    /// <summary>libtorch's fp32 GEMM at 2048³: the throughput the same cores reach on the friendliest kernel.</summary>
    [Benchmark(Baseline = true)]
    public float Matmul()
    {
        using var scope = torch.NewDisposeScope();
        return a.matmul(b)[0, 0].item<float>();
    }

    /// <summary>Multiply-adds ×2 of every convolution, linear layer and attention product in one forward pass.</summary>
    public static double CountForwardFlops(UNet2DModel model, Tensor sample, Tensor timestep) =>
        FlopCounter.Count(model, () => model.forward(sample, timestep, null).Dispose()).Flops;

    sealed class Columns : ManualConfig
    {
        public Columns() => AddColumn(WorkColumns.Create(Lookup, nameof(Matmul)));

        /// <summary>The columns run in the host process, where setup did not run: count again there.</summary>
        static Work? Lookup(BenchmarkCase benchmarkCase)
        {
            var method = benchmarkCase.Descriptor.WorkloadMethod.Name;
            lock (Recorded)
            {
                if (Recorded.Count == 0) new UNetBenchmarks().Setup();
                return Recorded.TryGetValue(method, out var w) ? w : null;
            }
        }
    }
}
