using BenchmarkDotNet.Attributes;
using SharpVision.Segmentation.Sam;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Benchmarks.Segmentation;

/// <summary>
/// One of vit_b's four global attention layers alone (768 wide, 12 heads, relative positions, a 64×64 token grid, fp32,
/// inference mode): where the encoder spends most of its non-matrix time. Compares attending all 4,096 queries at once
/// (a 12 × 4096 × 4096 logit tensor, 805 MB) with chunks of queries small enough to stay in cache, each with the
/// reference's explicit softmax or <c>scaled_dot_product_attention</c>. glibc's heap reuse is on, as <c>segment</c> runs.
/// </summary>
[MemoryDiagnoser(false)]
public class SamGlobalAttentionBenchmarks
{
    RelativePositionAttention attention = null!;
    Tensor x = null!;

    [Params(0, 64, 128, 256, 1024)]
    public int QueryChunk { get; set; }

    [Params(false, true)]
    public bool Sdpa { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        SharpVision.Nn.Memory.NativeHeap.KeepFreedBlocksForReuse();
        torch.manual_seed(0);
        attention = new RelativePositionAttention(768, 12, qkvBias: true, useRelPos: true, (64, 64));
        using (no_grad())
        {
            attention.rel_pos_h!.normal_(0, 0.02);
            attention.rel_pos_w!.normal_(0, 0.02);
        }
        attention.eval();
        attention.QueryChunkSize = QueryChunk;
        attention.UseScaledDotProductAttention = Sdpa;
        x = randn(1, 64, 64, 768);
    }

    [Benchmark]
    public long Attend()
    {
        using var scope = NewDisposeScope();
        using var inference = inference_mode();
        return attention.call(x).shape[3];
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        x.Dispose();
        attention.Dispose();
    }
}
