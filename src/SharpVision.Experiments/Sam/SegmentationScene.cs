namespace SharpVision.Experiments.Sam;

/// <summary>An axis-aligned box in pixel indices, corners inclusive (as segment-anything's <c>batched_mask_to_box</c>).</summary>
public readonly record struct PixelBox(double X0, double Y0, double X1, double Y1)
{
    /// <summary>Width in pixels counting both edges.</summary>
    public double Width => X1 - X0 + 1;
    /// <summary>Height in pixels counting both edges.</summary>
    public double Height => Y1 - Y0 + 1;
    /// <summary>Whether <paramref name="other"/> lies inside this box.</summary>
    public bool Contains(PixelBox other) => X0 <= other.X0 && Y0 <= other.Y0 && X1 >= other.X1 && Y1 >= other.Y1;
}

/// <summary>One Fashion-MNIST item placed in a scene.</summary>
/// <param name="SourceIndex">Index of the item in the source image set.</param>
/// <param name="Label">Its Fashion-MNIST class.</param>
/// <param name="Footprint">(S·S) the item's thresholded pixels where it was placed, before occlusion.</param>
/// <param name="Mask">(S·S) the pixels of the item still visible: its footprint less those of later items.</param>
/// <param name="Box">Tight box of <paramref name="Mask"/>.</param>
public sealed record SceneObject(int SourceIndex, int Label, bool[] Footprint, bool[] Mask, PixelBox Box)
{
    /// <summary>Visible pixel count.</summary>
    public int Area => Mask.Count(m => m);
}

/// <summary>
/// A synthetic scene: a square RGB canvas (black background) with items painted in order, each later
/// item hiding the earlier ones where its footprint lies, and one ground-truth instance mask per item.
/// </summary>
/// <param name="Size">Canvas side S.</param>
/// <param name="Rgb">(S, S, 3) interleaved RGB bytes.</param>
/// <param name="Intensity">(S·S) the painted grey level of each pixel (0 = background), before tinting.</param>
/// <param name="Objects">Items in painting order (later ones on top).</param>
public sealed record SegmentationScene(int Size, byte[] Rgb, byte[] Intensity, IReadOnlyList<SceneObject> Objects);
