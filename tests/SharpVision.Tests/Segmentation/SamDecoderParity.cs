using SharpVision.Nn.Checkpoints;
using SharpVision.Segmentation.Sam;
using SharpVision.Tests.Parity;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Tests.Segmentation;

/// <summary>
/// <c>sam_decoder</c>: the prompt encoder and mask decoder at the official vit_b/l/h sizes, loaded from a
/// state_dict holding only their keys; prompts are already in the 1024×1024 input frame.
/// </summary>
public sealed class SamDecoderParity : IParityHandler
{
    public IReadOnlyCollection<string> Kinds => ["sam_decoder"];

    public void Run(ParityCase c, Precision p)
    {
        var (prompt, decoder) = Load(c, p.Dtype);
        using var noGrad = torch.no_grad();
        var coords = c.Raw("point_coords");
        var labels = c.Raw("point_labels");
        var box = c.Raw("box");

        var (sparse, dense) = prompt.forward(coords, labels, box, null);
        c.Expect("expected_sparse_embeddings", sparse, p);
        var (lowRes, iou) = decoder.forward(c.Input("image_embeddings", p), prompt.GetDensePe(), sparse, dense, c.Bool("multimask_output", true));
        c.Expect("expected_low_res_logits", lowRes, p);
        c.Expect("expected_iou_predictions", iou, p);
    }

    /// <summary>Builds the two parts from the case's params and loads the checkpoint's prompt_encoder.* and mask_decoder.* keys.</summary>
    internal static (PromptEncoder Prompt, MaskDecoder Decoder) Load(ParityCase c, ScalarType dtype)
    {
        long dim = c.Long("prompt_embed_dim")!.Value;
        var emb = c.Params.GetProperty("image_embedding_size");
        var input = c.Params.GetProperty("input_image_size");
        var prompt = new PromptEncoder(dim, (emb[0].GetInt64(), emb[1].GetInt64()), (input[0].GetInt64(), input[1].GetInt64()), c.Long("mask_in_chans")!.Value);
        var decoder = new MaskDecoder(dim,
            new TwoWayTransformer(2, dim, c.Long("decoder_num_heads")!.Value, c.Long("decoder_mlp_dim")!.Value),
            iouHeadHiddenDim: c.Long("iou_head_hidden_dim")!.Value);
        var dict = StateDict.LoadPyTorch(c.PathOf(c.String("weights")!));
        StateDict.LoadInto(prompt, Strip(dict, "prompt_encoder."), source: "prompt_encoder.*");
        StateDict.LoadInto(decoder, Strip(dict, "mask_decoder."), source: "mask_decoder.*");
        prompt.to(dtype);
        decoder.to(dtype);
        prompt.eval();
        decoder.eval();
        return (prompt, decoder);
    }

    static Dictionary<string, Tensor> Strip(Dictionary<string, Tensor> dict, string prefix) =>
        dict.Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal)).ToDictionary(kv => kv.Key[prefix.Length..], kv => kv.Value);
}
