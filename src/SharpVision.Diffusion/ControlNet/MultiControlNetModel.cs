using SharpVision.Diffusion.Models;
using TorchSharp.Modules;

namespace SharpVision.Diffusion.ControlNet;

/// <summary>
/// Several ControlNets on one UNet2DConditionModel, each with its own condition image and scale; their residuals are summed.
/// Follows diffusers models/controlnets/multicontrolnet.py <c>MultiControlNetModel</c> (parameters under <c>nets.i</c>).
/// </summary>
public sealed class MultiControlNetModel : nn.Module
{
    public readonly ModuleList<ControlNetModel> nets;

    /// <param name="controlnets">At least one ControlNet, all for the same UNet configuration.</param>
    /// <exception cref="ArgumentException">No ControlNets.</exception>
    public MultiControlNetModel(IEnumerable<ControlNetModel> controlnets) : base(nameof(MultiControlNetModel))
    {
        ArgumentNullException.ThrowIfNull(controlnets);
        nets = new ModuleList<ControlNetModel>(controlnets.ToArray());
        if (nets.Count == 0) throw new ArgumentException("MultiControlNetModel needs at least one ControlNet", nameof(controlnets));
        RegisterComponents();
    }

    /// <summary>Checks every ControlNet against <paramref name="unet"/>.</summary>
    /// <exception cref="ArgumentException">The first mismatch, naming the ControlNet's index and both values.</exception>
    public void RequireCompatible(UNet2DConditionModel unet)
    {
        for (int i = 0; i < nets.Count; i++)
        {
            try { nets[i].RequireCompatible(unet); }
            catch (ArgumentException e) { throw new ArgumentException($"controlnet {i}: {e.Message}", nameof(unet), e); }
        }
    }

    /// <summary>Sum of each ControlNet's residuals on its own condition image at its own scale.</summary>
    /// <param name="sample">(B, in_channels, H, W).</param>
    /// <param name="timestep">Scalar, (1) or (B) timesteps.</param>
    /// <param name="encoderHiddenStates">(B, M, cross_attention_dim).</param>
    /// <param name="controlnetConds">One (B, C_k, H·f_k, W·f_k) condition image per ControlNet.</param>
    /// <param name="conditioningScales">One scale per ControlNet (a 0 scale still runs the net, as in the reference).</param>
    /// <exception cref="ArgumentException">Counts that differ from the number of ControlNets (both named), or a shape that does not fit.</exception>
    public ControlNetOutput Forward(Tensor sample, Tensor timestep, Tensor encoderHiddenStates, IReadOnlyList<Tensor> controlnetConds,
        IReadOnlyList<double> conditioningScales, bool guessMode = false)
    {
        MultiControl.RequireCounts(nets.Count, controlnetConds, conditioningScales);
        ControlNetOutput? sum = null;
        for (int i = 0; i < nets.Count; i++)
        {
            var r = nets[i].Forward(sample, timestep, encoderHiddenStates, controlnetConds[i], conditioningScales[i], guessMode);
            sum = MultiControl.Accumulate(sum, r);
        }
        return sum!;
    }

    /// <summary>The locked <paramref name="unet"/>'s prediction under all ControlNets.</summary>
    /// <returns>(B, out_channels, H, W).</returns>
    public Tensor Apply(UNet2DConditionModel unet, Tensor sample, Tensor timestep, Tensor encoderHiddenStates, IReadOnlyList<Tensor> controlnetConds,
        IReadOnlyList<double> conditioningScales)
    {
        RequireCompatible(unet);
        using var scope = torch.NewDisposeScope();
        var r = Forward(sample, timestep, encoderHiddenStates, controlnetConds, conditioningScales);
        return unet.Forward(sample, timestep, encoderHiddenStates, r.DownBlockResSamples, r.MidBlockResSample).MoveToOuterDisposeScope();
    }
}

/// <summary>Several <see cref="UNet2DControlNet"/>s on one UNet2DModel, each with its own condition image and scale; residuals summed.</summary>
public sealed class MultiUNet2DControlNet : nn.Module
{
    public readonly ModuleList<UNet2DControlNet> nets;

    /// <param name="controlnets">At least one ControlNet, all for the same UNet configuration.</param>
    /// <exception cref="ArgumentException">No ControlNets.</exception>
    public MultiUNet2DControlNet(IEnumerable<UNet2DControlNet> controlnets) : base(nameof(MultiUNet2DControlNet))
    {
        ArgumentNullException.ThrowIfNull(controlnets);
        nets = new ModuleList<UNet2DControlNet>(controlnets.ToArray());
        if (nets.Count == 0) throw new ArgumentException("MultiUNet2DControlNet needs at least one ControlNet", nameof(controlnets));
        RegisterComponents();
    }

    /// <summary>Sum of each ControlNet's residuals on its own condition image at its own scale.</summary>
    /// <param name="sample">(B, in_channels, H, W).</param>
    /// <param name="timestep">Scalar, (1) or (B) timesteps.</param>
    /// <param name="controlnetConds">One condition image per ControlNet.</param>
    /// <param name="conditioningScales">One scale per ControlNet.</param>
    /// <exception cref="ArgumentException">Counts that differ from the number of ControlNets, or a shape that does not fit.</exception>
    public ControlNetOutput Forward(Tensor sample, Tensor timestep, IReadOnlyList<Tensor> controlnetConds, IReadOnlyList<double> conditioningScales,
        Tensor? classLabels = null)
    {
        MultiControl.RequireCounts(nets.Count, controlnetConds, conditioningScales);
        ControlNetOutput? sum = null;
        for (int i = 0; i < nets.Count; i++)
            sum = MultiControl.Accumulate(sum, nets[i].Forward(sample, timestep, controlnetConds[i], classLabels, conditioningScales[i]));
        return sum!;
    }

    /// <summary>The locked <paramref name="unet"/>'s prediction under all ControlNets.</summary>
    /// <returns>(B, out_channels, H, W).</returns>
    public Tensor Apply(UNet2DModel unet, Tensor sample, Tensor timestep, IReadOnlyList<Tensor> controlnetConds, IReadOnlyList<double> conditioningScales,
        Tensor? classLabels = null)
    {
        ArgumentNullException.ThrowIfNull(unet);
        for (int i = 0; i < nets.Count; i++)
        {
            try { nets[i].RequireCompatible(unet); }
            catch (ArgumentException e) { throw new ArgumentException($"controlnet {i}: {e.Message}", nameof(unet), e); }
        }
        using var scope = torch.NewDisposeScope();
        var r = Forward(sample, timestep, controlnetConds, conditioningScales, classLabels);
        return unet.Forward(sample, timestep, classLabels, r.DownBlockResSamples, r.MidBlockResSample).MoveToOuterDisposeScope();
    }
}

internal static class MultiControl
{
    internal static void RequireCounts(int nets, IReadOnlyList<Tensor> conds, IReadOnlyList<double> scales)
    {
        ArgumentNullException.ThrowIfNull(conds);
        ArgumentNullException.ThrowIfNull(scales);
        if (conds.Count != nets)
            throw new ArgumentException($"controlnetConds holds {conds.Count} condition images for {nets} ControlNets", nameof(conds));
        if (scales.Count != nets)
            throw new ArgumentException($"conditioningScales holds {scales.Count} scales for {nets} ControlNets", nameof(scales));
    }

    internal static ControlNetOutput Accumulate(ControlNetOutput? sum, ControlNetOutput next)
    {
        if (sum is null) return next;
        var total = sum.Add(next);
        foreach (var t in sum.DownBlockResSamples) t.Dispose();
        sum.MidBlockResSample.Dispose();
        foreach (var t in next.DownBlockResSamples) t.Dispose();
        next.MidBlockResSample.Dispose();
        return total;
    }
}
