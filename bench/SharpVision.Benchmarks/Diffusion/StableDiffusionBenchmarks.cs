using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using SharpVision.Benchmarks.Measurement;
using SharpVision.Diffusion.Clip;
using SharpVision.Diffusion.Models;
using SharpVision.Diffusion.Models.Autoencoders;
using SharpVision.Nn.Flops;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Benchmarks.Diffusion;

/// <summary>
/// Stable Diffusion 1.5's models at 512², inference only, random weights built from the real configs
/// (<see cref="RandomStableDiffusion"/>), in float32 and bfloat16: one UNet call on a classifier-free-guidance batch
/// (latents (2, 4, 64, 64), timestep 999, text states (2, 77, 768)), the CLIP text encoder on 2 × 77 tokens (a prompt
/// and the empty prompt), the VAE decode of (1, 4, 64, 64) latents to a (1, 3, 512, 512) image, and a 4096³ matmul in
/// the same dtype as the machine's reachable rate. Columns: GFLOP/s (FLOPs counted with hooks, <see cref="FlopCounter"/>),
/// "of Matmul" (that rate as a fraction of the same run's matmul rate in the same dtype), GFLOP/op and images/s.
/// The bf16 setups print the output error against float32 on the same weights and input, and the CPU's bf16 instructions.
/// </summary>
/// <remarks>
/// Slow: one fp32 UNet call at batch 2 (about 1.6 TFLOP) takes tens of seconds on 2 cores. The job is Monitoring
/// (no pilot, no jitting call), no warm-up iteration (each setup's FLOP-counting call warms its model up), 3 iterations
/// of one invocation; torch runs on 2 threads. Run all of it (about 10 minutes on a quiet 2-core machine) with
/// <c>dotnet run -c Release --project bench/SharpVision.Benchmarks -- --filter '*StableDiffusionBenchmarks*'</c>, one
/// model with e.g. <c>--filter '*StableDiffusionBenchmarks.UNet'</c> (the matmul baseline: <c>'*StableDiffusionBenchmarks.Matmul'</c>);
/// give no <c>--job</c>, which would add a second job.
/// </remarks>
[Config(typeof(Columns))]
public class StableDiffusionBenchmarks
{
    public const int MatmulN = 4096;

    /// <summary>FLOPs and images of one invocation of each (method, dtype), filled in by setup, read by the columns.</summary>
    static readonly Dictionary<(string Method, ScalarType Dtype), Work> Recorded = [];

    [Params(ScalarType.Float32, ScalarType.BFloat16)]
    public ScalarType Dtype { get; set; }

    readonly List<IDisposable> owned = [];
    UNet2DConditionModel unet = null!;
    CLIPTextModel textEncoder = null!;
    AutoencoderKL vae = null!;
    Tensor latents = null!, timestep = null!, textStates = null!, tokenIds = null!, vaeLatents = null!, a = null!, b = null!;

    [GlobalSetup(Target = nameof(UNet))]
    public void SetupUNet()
    {
        Begin();
        unet = Own(RandomStableDiffusion.CreateUnet(RandomStableDiffusion.Folder()));
        latents = Own(randn(2, 4, 64, 64));
        timestep = Own(tensor(new long[] { 999 }));
        textStates = Own(randn(2, 77, 768));
        Prepare(nameof(UNet), unet, images: 0, UNetCall, () =>
        {
            latents = Own(latents.to(Dtype));
            textStates = Own(textStates.to(Dtype));
        });
    }

    [GlobalSetup(Target = nameof(TextEncoder))]
    public void SetupTextEncoder()
    {
        Begin();
        textEncoder = Own(RandomStableDiffusion.CreateTextEncoder(RandomStableDiffusion.Folder()));
        tokenIds = Own(RandomStableDiffusion.TokenIds(RandomStableDiffusion.CreateTokenizer(), "", RandomStableDiffusion.Prompt));
        Prepare(nameof(TextEncoder), textEncoder, images: 0, TextEncoderCall, () => { });
    }

    [GlobalSetup(Target = nameof(VaeDecode))]
    public void SetupVaeDecode()
    {
        Begin();
        vae = Own(RandomStableDiffusion.CreateVae(RandomStableDiffusion.Folder()));
        vaeLatents = Own(randn(1, 4, 64, 64) / vae.Config.ScalingFactor); // as the pipeline hands them to the decoder
        Prepare(nameof(VaeDecode), vae, images: 1, VaeDecodeCall, () => vaeLatents = Own(vaeLatents.to(Dtype)));
    }

    [GlobalSetup(Target = nameof(Matmul))]
    public void SetupMatmul()
    {
        Begin();
        a = Own(randn(MatmulN, MatmulN, dtype: Dtype));
        b = Own(randn(MatmulN, MatmulN, dtype: Dtype));
        lock (Recorded) Recorded[(nameof(Matmul), Dtype)] = new(2.0 * MatmulN * MatmulN * MatmulN, 0);
        if (Dtype != ScalarType.Float32) Console.WriteLine("// " + SharpVision.Nn.Hardware.CpuFeatures.Current.Describe());
    }

    /// <summary>One denoising step's UNet call under classifier-free guidance (both halves in one batch of 2).</summary>
    [Benchmark]
    public long UNet() => Run(UNetCall);

    /// <summary>CLIP ViT-L/14's text encoder on the prompt and the empty negative prompt, (2, 77) tokens to (2, 77, 768).</summary>
    [Benchmark]
    public long TextEncoder() => Run(TextEncoderCall);

    /// <summary>post_quant_conv and the decoder: (1, 4, 64, 64) latents to a (1, 3, 512, 512) image.</summary>
    [Benchmark]
    public long VaeDecode() => Run(VaeDecodeCall);

    /// <summary>libtorch's GEMM at 4096³ in the case's dtype: the rate the same cores reach on the friendliest kernel.</summary>
    [Benchmark(Baseline = true)]
    public long Matmul() => Run(() => a.matmul(b));

    Tensor UNetCall() => unet.forward(latents, timestep, textStates);
    Tensor TextEncoderCall() => textEncoder.EncodePrompt(tokenIds);
    Tensor VaeDecodeCall() => vae.Decode(vaeLatents);

    static long Run(Func<Tensor> call)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        return call().shape[0];
    }

    void Begin()
    {
        torch.set_num_threads(RandomStableDiffusion.Threads);
        torch.manual_seed(0);
    }

    /// <summary>
    /// Counts one call's FLOPs on the float32 model (the call also warms it up); for bfloat16 then converts the model
    /// and, through <paramref name="convertInputs"/>, its float inputs, and prints the error against that float32 output.
    /// </summary>
    void Prepare(string method, nn.Module model, int images, Func<Tensor> call, Action convertInputs)
    {
        Tensor reference = null!;
        double flops = FlopCounter.Count(model, () => reference = call()).Flops;
        lock (Recorded) Recorded[(method, Dtype)] = new(flops, images);
        using (reference)
        {
            if (Dtype == ScalarType.Float32) return;
            model.to(Dtype);
            convertInputs();
            using (no_grad())
            using (var output = call())
                OutputError.Print($"{method} {Dtype}", output, reference);
        }
    }

    T Own<T>(T disposable) where T : IDisposable
    {
        owned.Add(disposable);
        return disposable;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var d in owned) d.Dispose();
        owned.Clear();
    }

    sealed class Columns : ManualConfig
    {
        public Columns()
        {
            AddJob(SlowJob.Create(iterations: 3));
            AddColumn(WorkColumns.Create(c =>
            {
                lock (Recorded) return Recorded.TryGetValue((c.Descriptor.WorkloadMethod.Name, (ScalarType)c.Parameters["Dtype"]), out var w) ? w : null;
            }, nameof(Matmul)));
        }
    }
}
