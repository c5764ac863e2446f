using SharpVision.Segmentation.Sam;
using SharpVision.Tests.Parity;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Tests.Segmentation;

/// <summary>
/// <c>sam_predictor</c>: SamPredictor.set_image + predict on a small model. The model path starts from
/// <c>expected_resized_image</c> (Pillow's resize) so it is checked exactly; the resize itself is checked
/// separately with a one-level tolerance (see <see cref="MaxResizeDifference"/>).
/// </summary>
public sealed class SamPredictorParity : IParityHandler
{
    /// <summary>The largest |ours − Pillow| pixel difference the resize may show.</summary>
    public const int MaxResizeDifference = 1;

    public IReadOnlyCollection<string> Kinds => ["sam_predictor"];

    public void Run(ParityCase c, Precision p)
    {
        Run(c, p, optimised: false);
        // Every CPU option on (SDPA in the encoder and decoder, global attention in query chunks with a ragged last
        // chunk): the same expected tensors at the same float32 tolerance.
        if (p.Dtype == ScalarType.Float32) Run(c, p, optimised: true);
    }

    static void Run(ParityCase c, Precision p, bool optimised)
    {
        using var sam = LoadModel(c, p.Dtype);
        if (optimised) UseEveryOption(sam);
        using var predictor = new SamPredictor(sam);
        var image = c.Raw("image");
        var expectedResized = c.Raw("expected_resized_image");
        int height = (int)image.shape[0], width = (int)image.shape[1];

        int diff = ResizeDifference(image, expectedResized, sam.Config.ImageSize);
        Assert.True(diff <= MaxResizeDifference, $"{c.Name}: resize differs from Pillow by up to {diff} levels");

        // (h, w, 3) -> (1, 3, h, w)
        var resized = expectedResized.permute(2, 0, 1).unsqueeze(0);
        c.Expect("expected_preprocessed", sam.Preprocess(resized)[0], p);
        predictor.SetTorchImage(resized, (height, width));
        c.Expect("expected_image_embeddings", predictor.GetImageEmbedding()[0], p);

        // Prompts through the reference's transform (original pixels -> resized frame), in the model's dtype.
        Tensor? coords = null, labels = null, box = null, mask = null;
        if (c.Has("point_coords"))
        {
            coords = predictor.Transform.ApplyCoords(c.Raw("point_coords"), predictor.OriginalSize).to(p.Dtype).unsqueeze(0);
            labels = c.Raw("point_labels").unsqueeze(0);
        }
        if (c.Has("box")) box = predictor.Transform.ApplyBoxes(c.Raw("box"), predictor.OriginalSize).to(p.Dtype);
        if (c.Has("mask_input")) mask = c.Input("mask_input", p).unsqueeze(0);
        bool multimask = c.Bool("multimask_output", true);

        using (no_grad())
        {
            var (sparse, dense) = sam.prompt_encoder.forward(coords, labels, box, mask);
            c.Expect("expected_sparse_embeddings", sparse, p);
            c.Expect("expected_dense_embeddings", dense, p);
        }

        using var logits = predictor.PredictTorch(coords, labels, box, mask, multimask, returnLogits: true);
        c.Expect("expected_low_res_logits", logits.LowResLogits, p);
        c.Expect("expected_iou_predictions", logits.IouPredictions, p);
        c.Expect("expected_mask_logits", logits.Masks, p);

        // Boolean masks through the array-based Predict, compared away from the threshold.
        using var masks = PredictFromArrays(c, predictor, multimask);
        var expectedLogits = c.Raw("expected_mask_logits")[0];
        var confident = expectedLogits.abs().gt(p.Atol);
        var expectedMasks = c.Raw("expected_masks")[0];
        Assert.Equal(expectedMasks.shape, masks.Masks.shape);
        long wrong = masks.Masks.ne(expectedMasks).logical_and(confident).sum().item<long>();
        Assert.True(wrong == 0, $"{c.Name} [{p}]: {wrong} mask pixels differ away from the threshold");
        c.Expect("expected_iou_predictions", masks.IouPredictions.unsqueeze(0), p);
    }

    static SamPrediction PredictFromArrays(ParityCase c, SamPredictor predictor, bool multimask)
    {
        List<(double X, double Y)>? points = null;
        List<int>? labels = null;
        (double, double, double, double)? box = null;
        if (c.Has("point_coords"))
        {
            var xy = c.Raw("point_coords").to(ScalarType.Float64).data<double>().ToArray();
            points = Enumerable.Range(0, xy.Length / 2).Select(i => (xy[2 * i], xy[2 * i + 1])).ToList();
            labels = c.Raw("point_labels").data<long>().ToArray().Select(l => (int)l).ToList();
        }
        if (c.Has("box"))
        {
            var b = c.Raw("box").to(ScalarType.Float64).data<double>().ToArray();
            box = (b[0], b[1], b[2], b[3]);
        }
        var mask = c.Has("mask_input") ? c.Raw("mask_input") : null;
        return predictor.Predict(points, labels, box, mask, multimask);
    }

    /// <summary>Turns on every inference option that changes how SAM computes (not what): SDPA everywhere and, in a
    /// ViT encoder, global attention over chunks of 5 queries.</summary>
    internal static void UseEveryOption(SamModel sam)
    {
        sam.UseScaledDotProductAttention(true);
        if (sam.image_encoder is ImageEncoderViT vit) vit.ChunkGlobalAttention(5);
    }

    /// <summary>Builds the model from the case's sam_config.json and loads its sam.pth.</summary>
    internal static SamModel LoadModel(ParityCase c, ScalarType dtype)
    {
        var config = SamConfig.Load(c.PathOf(c.String("config")!));
        var sam = SamModel.FromCheckpoint(c.PathOf(c.String("weights")!), config);
        sam.to(dtype);
        return sam;
    }

    /// <summary>Max |ours − expected| over the resized image's pixels.</summary>
    internal static int ResizeDifference(Tensor image, Tensor expectedResized, int targetLength)
    {
        int h = (int)image.shape[0], w = (int)image.shape[1];
        var (resized, rh, rw) = new ResizeLongestSide(targetLength).ApplyImage(image.contiguous().data<byte>().ToArray(), h, w);
        Assert.Equal(expectedResized.shape, new long[] { rh, rw, 3 });
        var expected = expectedResized.contiguous().data<byte>().ToArray();
        return resized.Zip(expected, (a, b) => Math.Abs(a - b)).Max();
    }
}
