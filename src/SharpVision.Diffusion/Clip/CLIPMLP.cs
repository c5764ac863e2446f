using TorchSharp.Modules;

namespace SharpVision.Diffusion.Clip;

/// <summary>fc1 → activation (quick_gelu or gelu) → fc2 (transformers models/clip/modeling_clip.py <c>CLIPMLP</c>).</summary>
public sealed class CLIPMLP : nn.Module<Tensor, Tensor>
{
    public readonly Linear fc1;
    public readonly Linear fc2;

    readonly CLIPHiddenAct hidden_act;

    public CLIPMLP(long hiddenSize, long intermediateSize, CLIPHiddenAct hiddenAct) : base(nameof(CLIPMLP))
    {
        fc1 = nn.Linear(hiddenSize, intermediateSize);
        fc2 = nn.Linear(intermediateSize, hiddenSize);
        hidden_act = hiddenAct;
        RegisterComponents();
    }

    /// <param name="hiddenStates">(B, L, hidden_size).</param>
    /// <returns>(B, L, hidden_size).</returns>
    public override Tensor forward(Tensor hiddenStates)
    {
        using var scope = torch.NewDisposeScope();
        var h = fc1.call(hiddenStates); // (B, L, intermediate_size)
        h = hidden_act switch
        {
            CLIPHiddenAct.QuickGelu => h * torch.sigmoid(1.702 * h),
            _ => nn.functional.gelu(h),
        };
        return fc2.call(h).MoveToOuterDisposeScope();
    }
}
