using BenchmarkDotNet.Attributes;
using SharpVision.Benchmarks.Measurement;
using SharpVision.Segmentation.Sam;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Benchmarks.Segmentation;

/// <summary>
/// The numeric variants the SAM benchmarks compare: the reference's explicit softmax attention or
/// <c>scaled_dot_product_attention</c>, each with the model in float32 or cast to bfloat16.
/// </summary>
public enum SamVariant { Fp32, Fp32Sdpa, Bf16, Bf16Sdpa }

/// <summary>The one prompt every decoder measurement uses, as bench/reference/segment_anything_timings.py does: a
/// foreground point and a box in the 1024² model frame.</summary>
static class SamBenchmarkPrompt
{
    /// <returns>Coordinates (1, 1, 2), labels (1, 1) and box (1, 4).</returns>
    public static (Tensor Coords, Tensor Labels, Tensor Box) Create() =>
        (tensor(new[] { 500f, 375f }, [1, 1, 2]), tensor(new long[] { 1 }, [1, 1]), tensor(new[] { 200f, 150f, 700f, 800f }, [1, 4]));
}

static class SamVariants
{
    public static ScalarType Dtype(SamVariant v) => v is SamVariant.Bf16 or SamVariant.Bf16Sdpa ? ScalarType.BFloat16 : ScalarType.Float32;
    public static bool Sdpa(SamVariant v) => v is SamVariant.Fp32Sdpa or SamVariant.Bf16Sdpa;

    /// <summary>Prints a variant's output error against the float32 reference computation on the same weights and input.</summary>
    public static void ReportError(string what, SamVariant v, Tensor output, Tensor reference) => OutputError.Print($"{what} {v}", output, reference);
}

/// <summary>
/// SAM's vit_b image encoder (random weights) on one 1024×1024 image, inference only (no_grad). Heavy
/// (about 1 TFLOP per image): run with <c>--job dry</c> or <c>--job short</c>, and <c>--inProcess</c> (BenchmarkDotNet's
/// generated project does not find libtorch's native package).
/// </summary>
[MemoryDiagnoser(false)]
public class SamEncoderBenchmarks
{
    SamModel sam = null!;
    Tensor input = null!;

    [Params(SamVariant.Fp32, SamVariant.Fp32Sdpa, SamVariant.Bf16, SamVariant.Bf16Sdpa)]
    public SamVariant Variant { get; set; }

    /// <summary>Queries per chunk in the four global blocks (0: all 4096 at once, as the reference; see
    /// <see cref="ImageEncoderViT.ChunkGlobalAttention"/>).</summary>
    [Params(0, 1024)]
    public int GlobalQueryChunk { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        torch.manual_seed(0);
        if (SamVariants.Dtype(Variant) != ScalarType.Float32) Console.WriteLine("// " + SharpVision.Nn.Hardware.CpuFeatures.Current.Describe());
        sam = SamModel.Build(SamConfig.VitB);
        input = randn(1, 3, 1024, 1024);
        Tensor? reference = null;
        if (Variant != SamVariant.Fp32 || GlobalQueryChunk != 0)
            using (no_grad()) reference = sam.image_encoder.forward(input);
        sam.UseScaledDotProductAttention(SamVariants.Sdpa(Variant));
        ((ImageEncoderViT)sam.image_encoder).ChunkGlobalAttention(GlobalQueryChunk);
        sam.to(SamVariants.Dtype(Variant));
        input = input.to(SamVariants.Dtype(Variant));
        if (reference is not null)
        {
            using (no_grad()) SamVariants.ReportError($"encoder chunk {GlobalQueryChunk}", Variant, sam.image_encoder.forward(input), reference);
            reference.Dispose();
        }
    }

    [Benchmark]
    public long Encode()
    {
        using var scope = NewDisposeScope();
        using var inference = inference_mode(); // as SamPredictor.SetImage
        return sam.image_encoder.forward(input).shape[1];
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        input.Dispose();
        sam.Dispose();
    }
}

/// <summary>
/// One prompt (a foreground point and a box) through SAM's prompt encoder and mask decoder at the official
/// sizes, with a cached 256×64×64 image embedding and its position encoding, multimask output: the per-click
/// cost of interactive use (without the upscaling of the masks to the image size).
/// </summary>
[MemoryDiagnoser(false)]
public class SamDecoderBenchmarks
{
    PromptEncoder prompt = null!;
    MaskDecoder decoder = null!;
    Tensor embedding = null!, densePe = null!, coords = null!, labels = null!, box = null!;

    [Params(SamVariant.Fp32, SamVariant.Fp32Sdpa, SamVariant.Bf16, SamVariant.Bf16Sdpa)]
    public SamVariant Variant { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        torch.manual_seed(0);
        var config = SamConfig.VitB;
        long grid = config.ImageEmbeddingSize;
        prompt = new PromptEncoder(config.PromptEmbedDim, (grid, grid), (config.ImageSize, config.ImageSize), config.MaskInChans);
        decoder = new MaskDecoder(config.PromptEmbedDim, new TwoWayTransformer(2, config.PromptEmbedDim, config.DecoderNumHeads, config.DecoderMlpDim),
            iouHeadHiddenDim: config.IouHeadHiddenDim);
        var dtype = SamVariants.Dtype(Variant);
        prompt.eval();
        decoder.eval();
        embedding = randn(1, config.PromptEmbedDim, grid, grid);
        (coords, labels, box) = SamBenchmarkPrompt.Create();
        Tensor? reference = null;
        if (Variant != SamVariant.Fp32)
        {
            using (no_grad()) densePe = prompt.GetDensePe();
            reference = Masks();
            densePe.Dispose();
        }
        prompt.to(dtype);
        decoder.to(dtype);
        decoder.transformer.UseScaledDotProductAttention(SamVariants.Sdpa(Variant));
        embedding = embedding.to(dtype);
        using (no_grad()) densePe = prompt.GetDensePe(); // cached per image, as SamPredictor does
        if (reference is not null)
        {
            SamVariants.ReportError("decoder low-res logits", Variant, Masks(), reference);
            reference.Dispose();
        }
    }

    Tensor Masks()
    {
        using var noGrad = no_grad();
        var (sparse, dense) = prompt.forward(coords, labels, box, null);
        return decoder.forward(embedding, densePe, sparse, dense, multimaskOutput: true).Item1;
    }

    [Benchmark]
    public long DecodeOnePrompt()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var (sparse, dense) = prompt.forward(coords, labels, box, null);
        var (masks, _) = decoder.forward(embedding, densePe, sparse, dense, multimaskOutput: true);
        return masks.shape[1];
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var t in new[] { embedding, densePe, coords, labels, box }) t.Dispose();
        prompt.Dispose();
        decoder.Dispose();
    }
}
