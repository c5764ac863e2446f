using System.Diagnostics;
using SharpVision.Benchmarks.Measurement;
using SharpVision.Segmentation.Sam;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Benchmarks.Segmentation;

/// <summary>
/// Where the vit_b image encoder's time goes, per kind of operation (<c>-- --sam-encoder-profile [fp32|bf16 [global query chunk [SDPA in none|all|windowed blocks]]]</c>): forward
/// hooks on every submodule time three warm 1024² forwards (the table is the last's) in inference mode, and each module's own time (its total less
/// its timed children's) is summed by kind. Not BenchmarkDotNet: a few calls after a warm-up, to show the shares.
/// </summary>
static class SamEncoderProfile
{
    public static int Run(string dtypeName, int globalQueryChunk = 0, string sdpa = "none")
    {
        var dtype = dtypeName switch
        {
            "fp32" => ScalarType.Float32,
            "bf16" => ScalarType.BFloat16,
            _ => throw new ArgumentException($"--sam-encoder-profile takes fp32 or bf16; got '{dtypeName}'"),
        };
        // As `segment` runs it; SHARPVISION_DEFAULT_HEAP=1 keeps glibc's defaults to show what the setting saves.
        bool reuse = Environment.GetEnvironmentVariable("SHARPVISION_DEFAULT_HEAP") != "1" && SharpVision.Nn.Memory.NativeHeap.KeepFreedBlocksForReuse();
        torch.manual_seed(0);
        Console.WriteLine($"// glibc heap: {(reuse ? "freed blocks kept for reuse" : "defaults")}");
        Console.WriteLine($"// torch threads: {torch.get_num_threads()}; {SharpVision.Nn.Hardware.CpuFeatures.Current.Describe()}");
        using var sam = SamModel.Build(SamConfig.VitB);
        var encoder = (ImageEncoderViT)sam.image_encoder;
        encoder.ChunkGlobalAttention(globalQueryChunk);
        foreach (var block in encoder.blocks)
            block.attn.UseScaledDotProductAttention = sdpa switch
            {
                "none" => false,
                "all" => true,
                "windowed" => block.WindowSize > 0,
                _ => throw new ArgumentException($"SDPA takes none, all or windowed; got '{sdpa}'"),
            };
        encoder.to(dtype);
        using var input = randn(1, 3, 1024, 1024).to(dtype);

        using (inference_mode())
        {
            var count = SharpVision.Nn.Flops.FlopCounter.Count(encoder, input);
            Console.WriteLine($"// {count.Flops / 1e9:F1} GFLOP per image (FlopCounter)");
        }
        var timer = new ModuleTimer();
        void Hook(nn.Module<Tensor, Tensor> m, string kind) => timer.Hook(m, kind);
        Hook(encoder, "rest of the encoder (pos_embed add, permutes)");
        Hook(encoder.patch_embed, "patch embedding (16×16 conv)");
        Hook(encoder.neck, "neck (convs, LayerNorm2d)");
        foreach (var block in encoder.blocks)
        {
            string where = block.WindowSize > 0 ? "windowed" : "global";
            Hook(block, "block rest (window partition/unpartition, residual adds)");
            Hook(block.norm1, "LayerNorm");
            Hook(block.norm2, "LayerNorm");
            Hook(block.attn, $"attention core, {where} (qkᵀ, rel-pos, softmax, ·v, permutes)");
            Hook(block.attn.qkv, "linear qkv");
            Hook(block.attn.proj, "linear proj");
            Hook(block.mlp.lin1, "MLP lin1");
            Hook(block.mlp.act, "GELU");
            Hook(block.mlp.lin2, "MLP lin2");
        }

        using var inference = inference_mode();
        using (NewDisposeScope()) encoder.call(input); // warm-up
        var totals = new List<double>();
        for (int i = 0; i < 3; i++)
        {
            timer.Clear(); // the table is the last call's
            var wall = Stopwatch.StartNew();
            using (NewDisposeScope()) encoder.call(input);
            totals.Add(wall.Elapsed.TotalMilliseconds);
        }
        double totalMs = totals[^1];
        Console.WriteLine($"vit_b encoder, 1024², {dtypeName}, global query chunk {globalQueryChunk}, SDPA {sdpa}: median of 3 calls {totals.Order().ElementAt(1) / 1000:F2} s " +
                          $"({string.Join(", ", totals.Select(t => $"{t / 1000:F2}"))}); the last call:");
        timer.Print(totalMs);
        return 0;
    }
}
