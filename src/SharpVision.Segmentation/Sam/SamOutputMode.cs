namespace SharpVision.Segmentation.Sam;

/// <summary>The form <see cref="SamAutomaticMaskGenerator"/> returns masks in, as segment-anything's <c>output_mode</c> strings.</summary>
public enum SamOutputMode
{
    /// <summary>"binary_mask": an (H, W) bool tensor per mask; large images with many masks take H × W bytes each.</summary>
    BinaryMask,
    /// <summary>"uncompressed_rle": the run lengths only (<see cref="SamRle"/>).</summary>
    UncompressedRle,
    /// <summary>"coco_rle": pycocotools' compressed counts string (<see cref="CocoRle"/>).</summary>
    CocoRle,
}

/// <summary>Maps <see cref="SamOutputMode"/> to and from segment-anything's strings.</summary>
public static class SamOutputModes
{
    static readonly string[] Names = ["binary_mask", "uncompressed_rle", "coco_rle"]; // in the enum's order

    /// <summary>"binary_mask", "uncompressed_rle" or "coco_rle".</summary>
    public static string ToName(this SamOutputMode mode) => (uint)mode < Names.Length
        ? Names[(int)mode]
        : throw new ArgumentOutOfRangeException(nameof(mode), mode, "output mode must be BinaryMask, UncompressedRle or CocoRle");

    /// <exception cref="ArgumentException"><paramref name="name"/> is not one of the allowed values.</exception>
    public static SamOutputMode Parse(string name)
    {
        int index = Array.IndexOf(Names, name);
        return index >= 0 ? (SamOutputMode)index
            : throw new ArgumentException($"output_mode must be one of {string.Join(", ", Names)}; got '{name}'", nameof(name));
    }
}
