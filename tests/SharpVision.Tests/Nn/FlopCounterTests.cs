using SharpVision.Nn.Flops;
using SharpVision.Segmentation.Sam;
using SharpVision.Tests.Segmentation;

namespace SharpVision.Tests.Nn;

public sealed class FlopCounterTests
{
    [Fact]
    public void Counts_convolutions_depthwise_ones_and_linear_layers_from_their_shapes()
    {
        using var model = nn.Sequential(
            nn.Conv2d(3, 8, kernel_size: 3, stride: 2, padding: 1), // (1, 8, 5, 5): 200 outputs × 3·9
            nn.GELU(),
            nn.Conv2d(8, 8, kernel_size: 3, padding: 1, groups: 8), // 200 outputs × 1·9
            nn.Flatten(),
            nn.Linear(200, 10));                                    // 10 outputs × 200
        var count = FlopCounter.Count(model, randn(1, 3, 10, 10));
        Assert.Equal(200 * 27 + 200 * 9 + 10 * 200, count.MultiplyAccumulates);
        Assert.Equal(2 * count.MultiplyAccumulates, count.Flops);
        Assert.Equal(200L * 27, count.ByModule["0"]);
        // Hooks are removed: a second count is not doubled.
        Assert.Equal(count.MultiplyAccumulates, FlopCounter.Count(model, randn(1, 3, 10, 10)).MultiplyAccumulates);
    }

    [Fact]
    public void A_TinyViT_count_equals_the_per_layer_formula()
    {
        using var sam = SamModel.Build(TinyMobileSam.Config);
        var encoder = (TinyViT)sam.image_encoder;
        var count = FlopCounter.Count(encoder, randn(1, 3, 64, 64));
        Assert.Equal(ExpectedMacs(TinyMobileSam.Config), count.MultiplyAccumulates);
        Assert.Equal(new[] { "layers", "neck", "patch_embed" }, count.Grouped(1).Keys.Order(StringComparer.Ordinal));
    }

    /// <summary>
    /// TinyViT's multiply-accumulates written out per layer: the stem, MBConv (1×1, depthwise 3×3, 1×1),
    /// attention on the padded windows (qkv, q kᵀ, attn·v, proj), the depthwise local conv, the MLP, the
    /// mergings and the neck.
    /// </summary>
    static long ExpectedMacs(SamConfig config)
    {
        var t = config.TinyViT!;
        long s = config.ImageSize, p = s / 4, macs = (s / 2) * (s / 2) * (t.EmbedDims[0] / 2) * 3 * 9 + p * p * t.EmbedDims[0] * (t.EmbedDims[0] / 2) * 9;
        var res = Enumerable.Range(0, t.EmbedDims.Count).Select(i => p >> (i == 3 ? 2 : i)).ToArray();
        for (int i = 0; i < res.Length; i++)
        {
            long c = t.EmbedDims[i], l = res[i] * res[i];
            for (int b = 0; b < t.Depths[i]; b++)
            {
                if (i == 0) { long h = (long)(4 * c); macs += l * h * c + l * h * 9 + l * c * h; continue; }
                long w = t.WindowSizes[i], windows = (res[i] + w - 1) / w, padded = windows * windows * w * w, kd = c / t.NumHeads[i];
                macs += padded * 4 * c * c + 2 * windows * windows * t.NumHeads[i] * (w * w) * (w * w) * kd + l * c * 9 + 2 * l * c * (long)(t.MlpRatio * c);
            }
            if (i + 1 < res.Length)
            {
                long o = t.EmbedDims[i + 1], lo = res[i + 1] * res[i + 1];
                macs += l * o * c + lo * o * 9 + lo * o * o;
            }
        }
        long g = res[^1], d = config.PromptEmbedDim;
        return macs + g * g * d * t.EmbedDims[^1] + g * g * d * d * 9;
    }
}
