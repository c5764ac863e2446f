using System.Diagnostics;
using SharpVision.Benchmarks.Measurement;
using SharpVision.Segmentation.Sam;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Benchmarks.Segmentation;

/// <summary>
/// Where one prompt's decoder time goes (<c>-- --sam-decoder-profile [fp32|bf16 [sdpa]]</c>): medians of 20 calls after 3
/// warm-ups of the prompt encoder, the mask decoder and its two-way transformer (vit_b sizes, a point and a box,
/// multimask, random weights, inference mode), then one decoder call's own time per kind of leaf module through
/// forward hooks, averaged over 10 calls.
/// </summary>
static class SamDecoderProfile
{
    public static int Run(string dtypeName, bool sdpa = false)
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
        sam.mask_decoder.transformer.UseScaledDotProductAttention(sdpa);
        long grid = config.ImageEmbeddingSize, dim = config.PromptEmbedDim;
        using var inference = inference_mode();
        var embedding = randn(1, dim, grid, grid).to(dtype);
        var (coords, labels, box) = SamBenchmarkPrompt.Create();
        var densePe = sam.prompt_encoder.GetDensePe();
        var (sparse, dense) = sam.prompt_encoder.forward(coords, labels, box, null);
        var tokens = randn(1, 5 + sparse.shape[1], dim).to(dtype);

        var rows = new (string What, Func<Tensor> Call)[]
        {
            ("prompt encoder (point + box)", () => sam.prompt_encoder.forward(coords, labels, box, null).Sparse),
            ("mask decoder, whole", () => sam.mask_decoder.forward(embedding, densePe, sparse, dense, multimaskOutput: true).Masks),
            ("  two-way transformer", () => sam.mask_decoder.transformer.call(embedding + dense, densePe, tokens).Keys),
        };
        Console.WriteLine($"SAM decoder, vit_b sizes, {dtypeName}{(sdpa ? " + SDPA" : "")}, {torch.get_num_threads()} threads");
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

        // One decoder call's own time per kind of leaf module, through forward hooks (the attention cores, the residual
        // adds and the reshapes are the rest).
        var timer = new ModuleTimer();
        var transformer = sam.mask_decoder.transformer;
        foreach (var (block, i) in transformer.layers.Select((b, i) => (b, i)))
        {
            foreach (var (name, a) in new[] { ("self-attention", block.self_attn), ("token-to-image", block.cross_attn_token_to_image), ("image-to-token", block.cross_attn_image_to_token) })
                foreach (var (proj, linear) in new[] { ("q", a.q_proj), ("k", a.k_proj), ("v", a.v_proj), ("out", a.out_proj) })
                    timer.Hook(linear, $"linear {proj}_proj, {name}");
            foreach (var norm in new[] { block.norm1, block.norm2, block.norm3 }) timer.Hook(norm, "LayerNorm of the tokens");
            timer.Hook(block.norm4, "LayerNorm of the image (norm4)");
            timer.Hook(block.mlp, "token MLP");
        }
        foreach (var (proj, linear) in new[] { ("q", transformer.final_attn_token_to_image.q_proj), ("k", transformer.final_attn_token_to_image.k_proj), ("v", transformer.final_attn_token_to_image.v_proj), ("out", transformer.final_attn_token_to_image.out_proj) })
            timer.Hook(linear, $"linear {proj}_proj, final token-to-image");
        foreach (var (m, i) in sam.mask_decoder.output_upscaling.children().Select((m, i) => (m, i)))
            timer.Hook((nn.Module<Tensor, Tensor>)m, $"output_upscaling.{i} ({m.GetType().Name})");
        foreach (var mlp in sam.mask_decoder.output_hypernetworks_mlps) timer.Hook(mlp, "hypernetwork MLPs");
        timer.Hook(sam.mask_decoder.iou_prediction_head, "IoU head");
        double total = 0;
        for (int i = 0; i < 13; i++)
        {
            if (i == 3) timer.Clear();
            using var scope = NewDisposeScope();
            var clock = Stopwatch.StartNew();
            sam.mask_decoder.forward(embedding, densePe, sparse, dense, multimaskOutput: true);
            if (i >= 3) total += clock.Elapsed.TotalMilliseconds;
        }
        Console.WriteLine($"\nmask decoder, mean of 10 calls: {total / 10:F1} ms; per call:");
        timer.Print(total, rest: "rest (attention cores, adds, reshapes)", calls: 10);
        return 0;
    }
}
