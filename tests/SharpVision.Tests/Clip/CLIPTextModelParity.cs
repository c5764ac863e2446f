using SharpVision.Diffusion.Clip;

namespace SharpVision.Tests.Clip;

/// <summary>
/// Kind <c>clip_text_model</c>: openai/CLIP's text tower under transformers' CLIPTextModelWithProjection names — every
/// hidden state, the last hidden state, diffusers' clip_skip, the pooled output and the projected text embeds.
/// The expected tensors are float32 (the case's nested float64 tolerances of 1e-10 cannot hold against float32-rounded
/// values), so the float64 model is checked against them at the float32 tolerances.
/// </summary>
public sealed class CLIPTextModelParity : IParityHandler
{
    public IReadOnlyCollection<string> Kinds => ["clip_text_model"];

    public void Run(ParityCase c, Precision p)
    {
        RunAt(c, p);
        if (p.Dtype == ScalarType.Float32) RunAt(c, p with { Dtype = ScalarType.Float64 });
    }

    static void RunAt(ParityCase c, Precision p)
    {
        using var scope = torch.NewDisposeScope();
        using var model = CLIPTextModelWithProjection.FromPretrained(c.PathOf(c.String("model_dir") ?? "."), p.Dtype);
        Assert.Equal(c.String("hidden_act"), ExactName(model.Config.HiddenAct));
        using var noGrad = torch.no_grad();
        var ids = c.Raw("input_ids");
        var output = model.call(ids, null);
        Assert.Equal(model.Config.NumHiddenLayers + 1, output.HiddenStates.Count);
        for (int i = 0; i < output.HiddenStates.Count; i++) c.Expect($"expected_hidden_states.{i}", output.HiddenStates[i], p);
        c.Expect("expected_last_hidden_state", output.LastHiddenState, p);
        c.Expect("expected_pooler_output", output.PoolerOutput, p);
        c.Expect("expected_text_embeds", output.TextEmbeds!, p);
        int clipSkip = (int)(c.Long("clip_skip") ?? 1);
        c.Expect($"expected_clip_skip_{clipSkip}", model.EncodePrompt(ids, clipSkip), p);
    }

    static string ExactName(CLIPHiddenAct act) => SharpVision.Diffusion.Models.ExactNameEnumConverter<CLIPHiddenAct>.NameOf(act);
}
