using System.Diagnostics;
using SharpVision.Segmentation.Sam;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Benchmarks.Segmentation;

/// <summary>
/// Where one prompt's decoder time goes (<c>-- --sam-decoder-profile [fp32|bf16]</c>): the prompt encoder, the mask decoder
/// whole, and its two-way transformer and output upscaling alone on the same shapes (vit_b sizes, a point and a box,
/// multimask, random weights, inference mode); medians of 20 calls after 3 warm-ups.
/// </summary>
static class SamDecoderProfile
{
    public static int Run(string dtypeName)
    {
        var dtype = dtypeName switch
        {
            "fp32" => ScalarType.Float32,
            "bf16" => ScalarType.BFloat16,
            _ => throw new ArgumentException($"--sam-decoder-profile takes fp32 or bf16; got '{dtypeName}'"),
        };
        SharpVision.Nn.Memory.NativeHeap.KeepFreedBlocksForReuse();
        torch.manual_seed(0);
        var config = SamConfig.VitB;
        using var sam = SamModel.Build(config);
        sam.prompt_encoder.to(dtype);
        sam.mask_decoder.to(dtype);
        long grid = config.ImageEmbeddingSize, dim = config.PromptEmbedDim;
        using var inference = inference_mode();
        var embedding = randn(1, dim, grid, grid).to(dtype);
        var coords = tensor(new[] { 500f, 375f }, [1, 1, 2]);
        var labels = tensor(new long[] { 1 }, [1, 1]);
        var box = tensor(new[] { 200f, 150f, 700f, 800f }, [1, 4]);
        var densePe = sam.prompt_encoder.GetDensePe();
        var (sparse, dense) = sam.prompt_encoder.forward(coords, labels, box, null);
        var tokens = randn(1, 5 + sparse.shape[1], dim).to(dtype);
        var keys = randn(1, grid * grid, dim).to(dtype);

        var rows = new (string What, Func<Tensor> Call)[]
        {
            ("prompt encoder (point + box)", () => sam.prompt_encoder.forward(coords, labels, box, null).Sparse),
            ("mask decoder, whole", () => sam.mask_decoder.forward(embedding, densePe, sparse, dense, multimaskOutput: true).Masks),
            ("  mask decoder without the multimask slice (PredictMasks)", () => sam.mask_decoder.PredictMasks(embedding, densePe, sparse, dense).Masks),
            ("  two-way transformer", () => sam.mask_decoder.transformer.call(embedding + dense, densePe, tokens).Keys),
            ("  output upscaling (2 transposed convs)", () => sam.mask_decoder.output_upscaling.call(keys.transpose(1, 2).view(1, dim, grid, grid))),
            ("  hypernetwork MLP (one of four)", () => sam.mask_decoder.output_hypernetworks_mlps[0].call(tokens.select(1, 1))),
            ("  IoU head", () => sam.mask_decoder.iou_prediction_head.call(tokens.select(1, 0))),
        };
        Console.WriteLine($"SAM decoder, vit_b sizes, {dtypeName}, {torch.get_num_threads()} threads");
        Console.WriteLine("| part | median ms |\n|---|---:|");
        foreach (var (what, call) in rows)
        {
            var times = new List<double>();
            for (int i = 0; i < 23; i++)
            {
                using var scope = NewDisposeScope();
                var clock = Stopwatch.StartNew();
                call();
                if (i >= 3) times.Add(clock.Elapsed.TotalMilliseconds);
            }
            times.Sort();
            Console.WriteLine($"| {what} | {times[times.Count / 2]:F1} |");
        }
        return 0;
    }
}
