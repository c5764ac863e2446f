using SharpVision.Segmentation.Sam;
using SharpVision.Tests.Parity;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Tests.Segmentation;

/// <summary>
/// <c>mobile_sam_predictor</c>: MobileSAM's SamPredictor (TinyViT encoder) end to end on a reduced model:
/// set_image from the raw image, then predict with points and a box, logits out. Skips while the case
/// folder lacks the model files its params name (<c>checkpoint</c>, <c>config_file</c>).
/// </summary>
public sealed class MobileSamPredictorParity : IParityHandler
{
    public IReadOnlyCollection<string> Kinds => ["mobile_sam_predictor"];

    public void Run(ParityCase c, Precision p)
    {
        var checkpoint = c.String("checkpoint") ?? "mobile_sam_tiny.pt";
        var configFile = c.String("config_file") ?? "sam_config.json";
        var missing = new[] { checkpoint, configFile }.Where(f => !File.Exists(c.PathOf(f))).ToList();
        Skip.If(missing.Count > 0, $"fixture lacks {string.Join(" and ", missing)}");

        Run(c, p, checkpoint, configFile, optimised: false);
        if (p.Dtype == ScalarType.Float32) Run(c, p, checkpoint, configFile, optimised: true); // SDPA everywhere
    }

    static void Run(ParityCase c, Precision p, string checkpoint, string configFile, bool optimised)
    {
        using var sam = SamModel.FromCheckpoint(c.PathOf(checkpoint), SamConfig.Load(c.PathOf(configFile)));
        sam.to(p.Dtype);
        if (optimised) SamPredictorParity.UseEveryOption(sam);
        using var predictor = new SamPredictor(sam);
        predictor.SetImage(c.Raw("image"));
        c.Expect("expected_image_embedding", predictor.GetImageEmbedding(), p);

        var xy = c.Raw("point_coords").to(ScalarType.Float64).data<double>().ToArray();
        var points = Enumerable.Range(0, xy.Length / 2).Select(i => (xy[2 * i], xy[2 * i + 1])).ToList();
        var labels = c.Raw("point_labels").data<long>().ToArray().Select(l => (int)l).ToList();
        var b = c.Raw("box").to(ScalarType.Float64).data<double>().ToArray();
        using var prediction = predictor.Predict(points, labels, (b[0], b[1], b[2], b[3]),
            multimaskOutput: c.Bool("multimask_output", true), returnLogits: c.Bool("return_logits", true));
        c.Expect("expected_low_res_logits", prediction.LowResLogits, p);
        c.Expect("expected_iou_predictions", prediction.IouPredictions, p);
        c.Expect("expected_mask_logits", prediction.Masks, p);
    }
}
