using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using SharpVision.Diffusion.Models;
using SharpVision.Diffusion.Models.Blocks;
using SharpVision.Diffusion.Pipelines;
using SharpVision.Diffusion.Schedulers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpVision.Benchmarks.Diffusion;

/// <summary>
/// UNet2DModel training step (forward + MSE + backward) and inference forward at batch 64, 32×32, one channel, in the
/// small configuration the Fashion-MNIST training will use, beside a large fp32 matmul measured in the same run as the
/// machine's reachable GFLOP/s. Columns: images/s and achieved GFLOP/s.
/// </summary>
/// <remarks>
/// FLOPs are counted, not guessed: one forward pass with hooks on every Conv2d and Linear (2 · output elements ·
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
    static readonly Dictionary<string, (double Flops, int Images)> Work = [];

    public const int SampleBatch = 16, SampleSteps = 50;

    UNet2DModel model = null!;
    DDIMPipeline sampler = null!;
    Tensor x = null!, noise = null!, t = null!, a = null!, b = null!;

    /// <summary>The configuration `sharpvision diffusion train` uses by default (widths 32, 64, 64, attention at the lowest level).</summary>
    public static UNet2DModelConfig TrainingConfig => SharpVision.Diffusion.Training.FashionMnistDiffusionData.ModelConfig([32, 64, 64]);

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
        Work[nameof(TrainStep)] = (3 * forward, Batch);
        Work[nameof(Forward)] = (forward, Batch);
        Work[nameof(Matmul)] = (2.0 * MatmulN * MatmulN * MatmulN, 0);
        sampler = new DDIMPipeline(model, new DDIMScheduler());
        using (var sixteen = x.narrow(0, 0, SampleBatch)) Work[nameof(Ddim50Batch16)] = (SampleSteps * CountForwardFlops(model, sixteen, t.narrow(0, 0, SampleBatch)), SampleBatch);
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
    public static double CountForwardFlops(UNet2DModel model, Tensor sample, Tensor timestep)
    {
        double flops = 0;
        var hooks = new List<Action>();
        foreach (var (_, module) in model.named_modules())
        {
            switch (module)
            {
                case Conv2d conv:
                    var rc = conv.register_forward_hook((m, input, output) =>
                    {
                        flops += 2.0 * output.numel() * conv.weight!.shape[1] * conv.weight.shape[2] * conv.weight.shape[3];
                        return output;
                    });
                    hooks.Add(rc.remove);
                    break;
                case Linear linear:
                    var rl = linear.register_forward_hook((m, input, output) =>
                    {
                        flops += 2.0 * output.numel() * linear.weight!.shape[1];
                        return output;
                    });
                    hooks.Add(rl.remove);
                    break;
                case Attention attention:
                    var ra = attention.register_forward_hook((m, input, context, output) =>
                    {
                        long batch = input.shape[0];
                        long n = input.dim() == 4 ? input.shape[2] * input.shape[3] : input.shape[1];
                        long keys = context?.shape[1] ?? n;
                        long inner = attention.to_q.weight!.shape[0];
                        flops += 4.0 * batch * n * keys * inner; // q·kᵀ and weights·v
                        return output;
                    });
                    hooks.Add(ra.remove);
                    break;
            }
        }
        using (torch.no_grad()) model.forward(sample, timestep, null).Dispose();
        foreach (var remove in hooks) remove();
        return flops;
    }

    sealed class Columns : ManualConfig
    {
        public Columns()
        {
            AddColumn(new WorkColumn("images/s", (w, seconds) => w.Images == 0 ? "-" : (w.Images / seconds).ToString("N0")));
            AddColumn(new WorkColumn("GFLOP/s", (w, seconds) => (w.Flops / seconds / 1e9).ToString("N1")));
            AddColumn(new WorkColumn("GFLOP/op", (w, _) => (w.Flops / 1e9).ToString("N2")));
        }
    }

    sealed class WorkColumn(string name, Func<(double Flops, int Images), double, string> format) : IColumn
    {
        public string Id => nameof(WorkColumn) + name;
        public string ColumnName => name;
        public bool AlwaysShow => true;
        public ColumnCategory Category => ColumnCategory.Custom;
        public int PriorityInCategory => 0;
        public bool IsNumeric => true;
        public UnitType UnitType => UnitType.Dimensionless;
        public string Legend => name switch
        {
            "images/s" => "Images processed per second (batch / mean time)",
            "GFLOP/s" => "Counted conv/linear/attention FLOPs per second (training step = 3x forward)",
            _ => "Counted FLOPs of one invocation, in 1e9",
        };
        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
        public bool IsAvailable(Summary summary) => true;
        public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
        {
            var stats = summary[benchmarkCase]?.ResultStatistics;
            var method = benchmarkCase.Descriptor.WorkloadMethod.Name;
            if (stats is null) return "NA";
            if (!Work.TryGetValue(method, out var work)) work = Estimate(method);
            return format(work, stats.Mean / 1e9);
        }

        /// <summary>The columns run in the host process, where setup did not run: count again there.</summary>
        static (double, int) Estimate(string method)
        {
            lock (Work)
            {
                if (Work.Count == 0) new UNetBenchmarks().Setup();
                return Work.TryGetValue(method, out var w) ? w : (0, 0);
            }
        }
    }
}
