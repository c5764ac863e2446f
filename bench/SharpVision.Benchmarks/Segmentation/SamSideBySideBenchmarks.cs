using BenchmarkDotNet.Attributes;
using SharpVision.Benchmarks.Measurement;
using SharpVision.Segmentation.Sam;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Benchmarks.Segmentation;

/// <summary>
/// SharpVision's side of the SAM side-by-side (bench/reference/sam_side_by_side.sh): the same measurements as
/// bench/reference/segment_anything_timings.py, under the same names, shapes, prompts and image, in inference mode with
/// the library's defaults. With <c>SHARPVISION_SAM_WEIGHTS</c> set to the folder that script writes, the models load
/// its random weights (<c>sam_vit_b.pth</c>, <c>mobile_sam.pt</c>), so both automatic mask generators keep the same
/// masks; without it they are freshly initialised. The setup prints each measurement's peak resident set.
/// </summary>
[MemoryDiagnoser(false)]
public class SamSideBySideBenchmarks
{
    SamModel sam = null!;
    Tensor input = null!, embedding = null!, densePe = null!, coords = null!, labels = null!, box = null!;
    SamAutomaticMaskGenerator generator = null!;
    byte[] image = null!;
    int masks;

    /// <summary>The measurements BenchmarkDotNet runs. The automatic mask generators (minutes a call) are timed once
    /// each by <see cref="TimeOnce"/> instead: the in-process runner gives up on a benchmark after five minutes.</summary>
    public static IEnumerable<string> Measurements => ["encoder_vit_b_fp32", "encoder_vit_b_bf16", "encoder_vit_t_fp32", "decoder_fp32", "decoder_bf16"];

    [ParamsSource(nameof(Measurements))]
    public string Measurement { get; set; } = "encoder_vit_b_fp32";

    /// <summary>
    /// <paramref name="calls"/> calls of <paramref name="measurement"/> after its setup on the process's main thread, as
    /// <c>sharpvision segment</c> runs them, printed as <c>// NAME: one call S s</c> (the first) and, for more calls,
    /// <c>// NAME: median of the later calls S s</c>, with the cleanup's peak line
    /// (<c>-- --sam-side-by-side-once amg_vit_b</c>, <c>-- --sam-side-by-side-once encoder_vit_b_fp32 4</c>).
    /// </summary>
    public static int TimeOnce(string measurement, int calls = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(calls);
        var run = new SamSideBySideBenchmarks { Measurement = measurement };
        run.Setup();
        var seconds = new List<double>();
        for (int i = 0; i < calls; i++)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            run.Run();
            seconds.Add(clock.Elapsed.TotalSeconds);
        }
        Console.WriteLine(FormattableString.Invariant($"// {measurement}: one call {seconds[0]:F2} s"));
        if (calls > 1)
        {
            var later = seconds.Skip(1).Order().ToList();
            Console.WriteLine(FormattableString.Invariant($"// {measurement}: median of the later calls {later[later.Count / 2]:F3} s ({string.Join(", ", seconds.Skip(1).Select(s => $"{s:F3}"))})"));
        }
        run.Cleanup();
        return 0;
    }

    /// <summary>
    /// The bf16 error against fp32 of the vit_b encoder and of the decoder on this class's inputs and weights
    /// (<c>-- --sam-bf16-error</c>): each fp32 measurement's output, then the same modules cast to bf16 on the same input.
    /// </summary>
    public static int ReportBf16Error()
    {
        using var inference = inference_mode();
        var run = new SamSideBySideBenchmarks { Measurement = "encoder_vit_b_fp32" };
        run.Setup();
        using (var reference = run.sam.image_encoder.call(run.input))
        {
            run.sam.image_encoder.to(ScalarType.BFloat16);
            using var output = run.sam.image_encoder.call(run.input.to(ScalarType.BFloat16));
            OutputError.Print("vit_b image encoder, bf16", output, reference);
        }
        run.Cleanup();
        var decoder = new SamSideBySideBenchmarks { Measurement = "decoder_fp32" };
        decoder.Setup();
        using (NewDisposeScope())
        {
            var (sparse, dense) = decoder.sam.prompt_encoder.forward(decoder.coords, decoder.labels, decoder.box, null);
            var reference = decoder.sam.mask_decoder.forward(decoder.embedding, decoder.densePe, sparse, dense, multimaskOutput: true).Item1;
            decoder.sam.to(ScalarType.BFloat16);
            // As the bf16 measurement: the same prompt, the positional encoding recomputed by the bf16 prompt encoder.
            var (sparse16, dense16) = decoder.sam.prompt_encoder.forward(decoder.coords, decoder.labels, decoder.box, null);
            var output = decoder.sam.mask_decoder.forward(decoder.embedding.to(ScalarType.BFloat16), decoder.sam.prompt_encoder.GetDensePe(), sparse16, dense16, multimaskOutput: true).Item1;
            OutputError.Print("prompt encoder + mask decoder (mask logits), bf16", output, reference);
        }
        decoder.Cleanup();
        return 0;
    }

    string ModelType => Measurement.Contains("vit_t") ? "vit_t" : "vit_b";
    ScalarType Dtype => Measurement.EndsWith("bf16") ? ScalarType.BFloat16 : ScalarType.Float32;

    [GlobalSetup]
    public void Setup()
    {
        // As `sharpvision segment` runs: NativeHeap.KeepFreedBlocksForReuse for prompts, glibc's defaults for --auto (the
        // generator's varying sizes fragment a never-trimmed heap); SHARPVISION_DEFAULT_HEAP=1 keeps the defaults for all.
        if (!Measurement.StartsWith("amg") && Environment.GetEnvironmentVariable("SHARPVISION_DEFAULT_HEAP") != "1")
            SharpVision.Nn.Memory.NativeHeap.KeepFreedBlocksForReuse();
        torch.manual_seed(0);
        var weights = Environment.GetEnvironmentVariable("SHARPVISION_SAM_WEIGHTS");
        var config = SamConfig.ForModelType(ModelType);
        sam = weights is null ? SamModel.Build(config)
            : SamModel.FromCheckpoint(Path.Combine(weights, ModelType == "vit_t" ? "mobile_sam.pt" : "sam_vit_b.pth"), config);
        sam.eval();
        if (Dtype != ScalarType.Float32) Console.WriteLine("// " + SharpVision.Nn.Hardware.CpuFeatures.Current.Describe());
        if (Measurement.StartsWith("encoder"))
        {
            sam.image_encoder.to(Dtype);
            input = randn(1, 3, 1024, 1024).to(Dtype);
        }
        else if (Measurement.StartsWith("decoder"))
        {
            sam.prompt_encoder.to(Dtype);
            sam.mask_decoder.to(Dtype);
            embedding = randn(1, config.PromptEmbedDim, config.ImageEmbeddingSize, config.ImageEmbeddingSize).to(Dtype);
            (coords, labels, box) = SamBenchmarkPrompt.Create();
            using (inference_mode()) densePe = sam.prompt_encoder.GetDensePe(); // cached per image, as SamPredictor does
        }
        else
        {
            generator = new SamAutomaticMaskGenerator(sam);
            image = SamAutomaticMaskSmoke.Scene(768, 1024);
        }
        ProcStatus.TryResetPeak();
    }

    [Benchmark]
    public long Run()
    {
        using var scope = NewDisposeScope();
        using var inference = inference_mode();
        if (Measurement.StartsWith("encoder")) return sam.image_encoder.call(input).shape[1];
        if (Measurement.StartsWith("decoder"))
        {
            var (sparse, dense) = sam.prompt_encoder.forward(coords, labels, box, null);
            return sam.mask_decoder.forward(embedding, densePe, sparse, dense, multimaskOutput: true).Item1.shape[1];
        }
        var records = generator.Generate(image, 768, 1024);
        foreach (var r in records) r.Dispose();
        return masks = records.Count;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        Console.WriteLine($"// {Measurement}: {(generator is null ? "" : $"{masks} masks kept; ")}{ProcStatus.PeakLine()}");
        foreach (var t in new[] { input, embedding, densePe, coords, labels, box }) t?.Dispose();
        sam.Dispose();
    }
}
