using System.Text.Json;
using SharpVision.Segmentation.Sam;

namespace SharpVision.Cli.Output;

/// <summary>
/// Writes automatic masks as segment-anything's scripts/amg.py does with <c>--convert-to-rle</c> (a JSON list of the
/// generator's records: <c>segmentation</c>, <c>area</c>, <c>bbox</c> XYWH, <c>predicted_iou</c>,
/// <c>point_coords</c> [[x, y]], <c>stability_score</c>, <c>crop_box</c> XYWH).
/// </summary>
public static class MaskRecordsJson
{
    /// <param name="records">The masks, in the generator's order.</param>
    /// <param name="path">The JSON file (written atomically).</param>
    /// <param name="maskFiles">For <c>binary_mask</c> output, each mask's PNG file name, written as its <c>segmentation</c>;
    /// otherwise null, and <c>segmentation</c> is the RLE <c>{"size": [h, w], "counts": ...}</c> (a string for coco_rle,
    /// run lengths for uncompressed_rle).</param>
    public static void Write(IReadOnlyList<SamMaskRecord> records, string path, IReadOnlyList<string>? maskFiles = null)
    {
        ArgumentNullException.ThrowIfNull(records);
        SharpVision.Nn.Checkpoints.AtomicFile.Write(path, stream =>
        {
            using var json = new Utf8JsonWriter(stream);
            json.WriteStartArray();
            for (int i = 0; i < records.Count; i++)
            {
                var r = records[i];
                json.WriteStartObject();
                json.WritePropertyName("segmentation");
                if (maskFiles is not null) json.WriteStringValue(maskFiles[i]);
                else WriteRle(json, r);
                json.WriteNumber("area", r.Area);
                WriteNumbers(json, "bbox", r.Bbox.X, r.Bbox.Y, r.Bbox.W, r.Bbox.H);
                json.WriteNumber("predicted_iou", r.PredictedIou);
                json.WriteStartArray("point_coords");
                json.WriteStartArray();
                json.WriteNumberValue(r.PointCoords.X);
                json.WriteNumberValue(r.PointCoords.Y);
                json.WriteEndArray();
                json.WriteEndArray();
                json.WriteNumber("stability_score", r.StabilityScore);
                WriteNumbers(json, "crop_box", r.CropBox.X, r.CropBox.Y, r.CropBox.W, r.CropBox.H);
                json.WriteEndObject();
            }
            json.WriteEndArray();
        });
    }

    static void WriteRle(Utf8JsonWriter json, SamMaskRecord r)
    {
        json.WriteStartObject();
        WriteNumbers(json, "size", r.Rle.Height, r.Rle.Width);
        if (r.CocoCounts is not null) json.WriteString("counts", r.CocoCounts);
        else WriteNumbers(json, "counts", r.Rle.Counts);
        json.WriteEndObject();
    }

    static void WriteNumbers(Utf8JsonWriter json, string name, params int[] values)
    {
        json.WriteStartArray(name);
        foreach (var v in values) json.WriteNumberValue(v);
        json.WriteEndArray();
    }
}
