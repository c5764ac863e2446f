using SharpVision.Diffusion.Models;

namespace SharpVision.Tests.ControlNet;

/// <summary>Tiny configurations and helpers shared by the ControlNet tests.</summary>
static class ControlNetTestModels
{
    /// <summary>Two levels, one layer each, cross-attention in the outer level: 8×8 latents, 16×16 condition images.</summary>
    public static UNet2DConditionModelConfig TinyConditionUNet(Func<UNet2DConditionModelConfig, UNet2DConditionModelConfig>? edit = null)
    {
        var c = new UNet2DConditionModelConfig
        {
            InChannels = 4, OutChannels = 4, BlockOutChannels = [16, 32], LayersPerBlock = 1, NormNumGroups = 8, CrossAttentionDim = 16,
            AttentionHeadDim = [2], SampleSize = [8],
            DownBlockTypes = [ConditionDownBlockType.CrossAttnDownBlock2D, ConditionDownBlockType.DownBlock2D],
            UpBlockTypes = [ConditionUpBlockType.UpBlock2D, ConditionUpBlockType.CrossAttnUpBlock2D],
        };
        return edit is null ? c : edit(c);
    }

    /// <summary>A two-level UNet2DModel with attention in the inner level.</summary>
    public static UNet2DModelConfig TinyUNet(Func<UNet2DModelConfig, UNet2DModelConfig>? edit = null)
    {
        var c = new UNet2DModelConfig
        {
            InChannels = 1, OutChannels = 1, BlockOutChannels = [16, 32], LayersPerBlock = 1, NormNumGroups = 8, AttentionHeadDim = 8,
            DownBlockTypes = [DownBlockType.DownBlock2D, DownBlockType.AttnDownBlock2D],
            UpBlockTypes = [UpBlockType.AttnUpBlock2D, UpBlockType.UpBlock2D],
        };
        return edit is null ? c : edit(c);
    }

    /// <summary>Stage widths of the test conditioning embeddings (condition image 2× the sample).</summary>
    public static readonly int[] CondStages = [8, 16];

    /// <summary>Adds small seeded noise to every parameter (a "trained" module).</summary>
    public static void Perturb(TorchSharp.torch.nn.Module module, double std = 0.05)
    {
        using var noGrad = no_grad();
        foreach (var p in module.parameters()) p.add_(randn_like(p) * std);
    }

    public static bool BitEqual(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.dtype == b.dtype && a.eq(b).all().item<bool>();

    public static bool AllZero(Tensor t) => t.eq(0).all().item<bool>();

    /// <summary>Whether a parameter has a gradient with a non-zero entry.</summary>
    public static bool HasNonZeroGrad(Tensor p) => p.grad is { } g && !AllZero(g);
}
