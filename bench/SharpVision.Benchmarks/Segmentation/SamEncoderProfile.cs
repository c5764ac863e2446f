using System.Diagnostics;
using SharpVision.Segmentation.Sam;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Benchmarks.Segmentation;

/// <summary>
/// Where the vit_b image encoder's time goes, per kind of operation (<c>-- --sam-encoder-profile [fp32|bf16 [global query chunk]]</c>): forward
/// hooks on every submodule time one warm 1024² forward in inference mode, and each module's own time (its total less
/// its timed children's) is summed by kind. Not BenchmarkDotNet: one run after a warm-up, to show the shares.
/// </summary>
static class SamEncoderProfile
{
    public static int Run(string dtypeName, int globalQueryChunk = 0)
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
        encoder.to(dtype);
        using var input = randn(1, 3, 1024, 1024).to(dtype);

        var self = new Dictionary<string, double>();
        var stack = new Stack<(long Start, double Children)>();
        void Hook(nn.Module<Tensor, Tensor> m, string kind)
        {
            m.register_forward_pre_hook((_, x) => { stack.Push((Stopwatch.GetTimestamp(), 0)); return x; });
            m.register_forward_hook((_, _, y) =>
            {
                var (start, children) = stack.Pop();
                double total = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                self[kind] = self.GetValueOrDefault(kind) + total - children;
                if (stack.Count > 0) { var parent = stack.Pop(); stack.Push((parent.Start, parent.Children + total)); }
                return y;
            });
        }
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
        self.Clear();
        var wall = Stopwatch.StartNew();
        using (NewDisposeScope()) encoder.call(input);
        double totalMs = wall.Elapsed.TotalMilliseconds;
        Console.WriteLine($"vit_b encoder, 1024², {dtypeName}, global query chunk {globalQueryChunk}: {totalMs / 1000:F2} s");
        Console.WriteLine($"| {"operation",-62} | {"ms",8} | {"share",6} |");
        Console.WriteLine($"|{new string('-', 64)}|{new string('-', 9)}:|{new string('-', 7)}:|");
        foreach (var (kind, ms) in self.OrderByDescending(kv => kv.Value))
            Console.WriteLine($"| {kind,-62} | {ms,8:F0} | {ms / totalMs,6:P1} |");
        return 0;
    }
}
