using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Segmentation.Sam;

/// <summary>
/// What <see cref="SamModel"/> needs of an image encoder: a square input side and a forward from the
/// normalised, padded image to the image embedding. Implemented by segment-anything's
/// <see cref="ImageEncoderViT"/> and MobileSAM's <see cref="TinyViT"/>; both are stored under the field
/// name <c>image_encoder</c>, so checkpoints of either load into a <see cref="SamModel"/>.
/// </summary>
public abstract class SamImageEncoder : nn.Module<Tensor, Tensor>
{
    /// <param name="name">The module name.</param>
    protected SamImageEncoder(string name) : base(name) { }

    /// <summary>Side of the square input image.</summary>
    public abstract long ImgSize { get; }

    /// <summary>Switches the encoder's attention between the reference's explicit softmax and
    /// <c>scaled_dot_product_attention</c>.</summary>
    public abstract void UseScaledDotProductAttention(bool enabled);
}
