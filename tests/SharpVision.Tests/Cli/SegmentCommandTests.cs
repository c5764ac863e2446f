using SharpVision.Cli.CommandLine;
using SharpVision.Cli.Commands;
using SharpVision.Experiments.Output;
using SharpVision.Segmentation.Sam;
using SharpVision.Tests.Parity;
using System.Text.Json;

namespace SharpVision.Tests.Cli;

/// <summary><c>sharpvision segment</c> on a real PNG with a checkpoint in the official torch.save format (the tiny fixture model).</summary>
public sealed class SegmentCommandTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("sv-segment-").FullName;
    readonly string checkpoint = FixtureRoot.Combine("sam", "sam_tiny_point", "sam.pth");
    readonly string config = FixtureRoot.Combine("sam", "sam_tiny_point", "sam_config.json");
    readonly string image;

    public SegmentCommandTests()
    {
        // A 60×90 image with a bright rectangle on a dark background.
        const int h = 60, w = 90;
        var rgb = new byte[h * w * 3];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                byte v = x is >= 20 and < 60 && y is >= 15 and < 45 ? (byte)220 : (byte)25;
                rgb[(y * w + x) * 3] = v; rgb[(y * w + x) * 3 + 1] = (byte)(v / 2); rgb[(y * w + x) * 3 + 2] = 40;
            }
        image = Path.Combine(dir, "in.png");
        Images.SaveRgb(rgb, h, w, image);
    }

    (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = new CommandLineApp(Commands.All).Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public void WritesTheBestMaskAndAnOverlayAndPrintsEachScore()
    {
        var outPath = Path.Combine(dir, "mask.png");
        var (code, stdout, stderr) = Run("segment", "--checkpoint", checkpoint, "--config", config, "--image", image,
            "--point", "40,30", "--point", "5,5,0", "--box", "15,10,65,50", "--multimask", "--out", outPath);
        Assert.True(code == 0, stderr);
        Assert.Equal(3, stdout.Split('\n').Count(l => l.StartsWith("mask ", StringComparison.Ordinal)));
        Assert.Contains("(written)", stdout);
        var (maskRgb, mh, mw) = Images.LoadRgb(outPath);
        Assert.Equal((60, 90), (mh, mw));
        Assert.All(maskRgb, v => Assert.True(v is 0 or 255));
        Assert.True(File.Exists(Path.Combine(dir, "mask.overlay.png")));
    }

    [Theory]
    [InlineData("--point", "100,30", "outside")]
    [InlineData("--box", "50,10,20,40", "box")]
    [InlineData("--point", "40,30,7", "label")]
    [InlineData("--point", "forty,30", "not a number")]
    public void BadPromptsExitWithCode2AndOneLine(string option, string value, string expected)
    {
        var (code, _, stderr) = Run("segment", "--checkpoint", checkpoint, "--config", config, "--image", image,
            option, value, "--out", Path.Combine(dir, "m.png"));
        Assert.Equal(2, code);
        Assert.Contains(expected, stderr, StringComparison.OrdinalIgnoreCase);
        Assert.Single(stderr.Trim().Split('\n'));
    }

    [Fact]
    public void ACheckpointOfAnotherSizeIsAUserErrorNamingTheMismatch()
    {
        var (code, _, stderr) = Run("segment", "--checkpoint", checkpoint, "--model-type", "vit_b", "--image", image,
            "--point", "40,30", "--out", Path.Combine(dir, "m.png"));
        Assert.Equal(2, code);
        Assert.Contains("image_encoder", stderr);
    }

    [Fact]
    public void MissingFilesAreNamed()
    {
        var missing = Path.Combine(dir, "nope.png");
        var (code, _, stderr) = Run("segment", "--checkpoint", checkpoint, "--config", config, "--image", missing,
            "--point", "1,1", "--out", Path.Combine(dir, "m.png"));
        Assert.Equal(2, code);
        Assert.Contains(missing, stderr);
    }

    [Fact]
    public void A_saved_embedding_gives_the_same_mask_as_segmenting_the_image()
    {
        var direct = Path.Combine(dir, "direct.png");
        var (code, _, stderr) = Run("segment", "--checkpoint", checkpoint, "--config", config, "--image", image, "--point", "40,30", "--out", direct);
        Assert.True(code == 0, stderr);

        var embedding = Path.Combine(dir, "emb.safetensors");
        (code, var stdout, stderr) = Run("segment", "--checkpoint", checkpoint, "--config", config, "--embed", image, "--out", embedding);
        Assert.True(code == 0, stderr);
        Assert.Contains("(1, 32, 9, 9) embedding", stdout);

        var cached = Path.Combine(dir, "cached.png");
        (code, stdout, stderr) = Run("segment", "--checkpoint", checkpoint, "--config", config, "--embedding", embedding, "--point", "40,30", "--out", cached);
        Assert.True(code == 0, stderr);
        Assert.Contains("(written)", stdout);
        Assert.False(File.Exists(Path.Combine(dir, "cached.overlay.png")));
        Assert.Equal(Images.LoadRgb(direct).Rgb, Images.LoadRgb(cached).Rgb);
    }

    [Fact]
    public void An_embedding_of_another_model_type_is_a_user_error_naming_both()
    {
        var embedding = Path.Combine(dir, "emb.safetensors");
        Assert.Equal(0, Run("segment", "--checkpoint", checkpoint, "--config", config, "--embed", image, "--out", embedding).Code);
        var (code, _, stderr) = Run("segment", "--checkpoint", checkpoint, "--model-type", "vit_t", "--embedding", embedding,
            "--point", "40,30", "--out", Path.Combine(dir, "m.png"));
        Assert.Equal(2, code);
        Assert.Contains("custom model (embed_dim 32, 2 blocks; image_size 72", stderr);
        Assert.Contains("this model is vit_t model (TinyViT", stderr);
        Assert.Single(stderr.Trim().Split('\n'));
    }

    [Theory]
    [InlineData("--point", "40,30")]
    [InlineData("--embedding", "emb.safetensors")]
    public void Embed_takes_no_prompts_and_no_embedding(string option, string value)
    {
        var (code, _, stderr) = Run("segment", "--checkpoint", checkpoint, "--config", config, "--embed", image, option, value,
            "--out", Path.Combine(dir, "e.safetensors"));
        Assert.Equal(2, code);
        Assert.Contains("--embed", stderr);
        Assert.Single(stderr.Trim().Split('\n'));
    }

    [Fact]
    public void An_image_of_another_size_than_the_embeddings_is_rejected()
    {
        var embedding = Path.Combine(dir, "emb.safetensors");
        Assert.Equal(0, Run("segment", "--checkpoint", checkpoint, "--config", config, "--embed", image, "--out", embedding).Code);
        var small = Path.Combine(dir, "small.png");
        Images.SaveRgb(new byte[10 * 20 * 3], 10, 20, small);
        var (code, _, stderr) = Run("segment", "--checkpoint", checkpoint, "--config", config, "--embedding", embedding, "--image", small,
            "--point", "5,5", "--out", Path.Combine(dir, "m.png"));
        Assert.Equal(2, code);
        Assert.Contains("20x10", stderr);
        Assert.Contains("90x60", stderr);
    }

    [Fact]
    public void Auto_writes_coco_rle_records_and_a_colour_overlay()
    {
        var outPath = Path.Combine(dir, "masks.json");
        var (code, stdout, stderr) = Run("segment", "--checkpoint", checkpoint, "--config", config, "--auto", image,
            "--points-per-side", "4", "--points-per-batch", "5", "--pred-iou-thresh", "0", "--stability-score-thresh", "0", "--out", outPath);
        Assert.True(code == 0, stderr);
        Assert.Contains("from 4x4 points in 4 decoder batches", stdout);
        using var json = JsonDocument.Parse(File.ReadAllText(outPath));
        var masks = json.RootElement.EnumerateArray().ToList();
        Assert.NotEmpty(masks);
        foreach (var m in masks)
        {
            var seg = m.GetProperty("segmentation");
            Assert.Equal([60, 90], seg.GetProperty("size").EnumerateArray().Select(v => v.GetInt32()));
            var rle = SamRle.FromCocoString(seg.GetProperty("counts").GetString()!, 60, 90);
            Assert.Equal(rle.Area, m.GetProperty("area").GetInt64());
            var box = m.GetProperty("bbox").EnumerateArray().Select(v => v.GetInt32()).ToArray();
            var expected = SamMaskUtils.MaskToBox(rle.ToMask(), 60, 90);
            Assert.Equal([expected[0], expected[1], expected[2] - expected[0], expected[3] - expected[1]], box);
            Assert.Equal([0, 0, 90, 60], m.GetProperty("crop_box").EnumerateArray().Select(v => v.GetInt32()));
            Assert.Equal(2, m.GetProperty("point_coords")[0].GetArrayLength());
            Assert.InRange(m.GetProperty("stability_score").GetDouble(), 0, 1);
            Assert.True(m.TryGetProperty("predicted_iou", out _));
        }
        var (overlay, oh, ow) = Images.LoadRgb(Path.Combine(dir, "masks.overlay.png"));
        Assert.Equal((60, 90), (oh, ow));
        Assert.NotEqual(Images.LoadRgb(image).Rgb, overlay);
    }

    [Fact]
    public void Auto_with_random_weights_in_bf16_names_the_cpus_bf16_path()
    {
        var outPath = Path.Combine(dir, "masks.json");
        var (code, stdout, stderr) = Run("segment", "--random-weights", "--config", config, "--dtype", "bf16", "--auto", image,
            "--points-per-side", "2", "--pred-iou-thresh", "0", "--stability-score-thresh", "0", "--output-mode", "uncompressed_rle", "--out", outPath);
        Assert.True(code == 0, stderr);
        Assert.Contains("bf16 path:", stdout);
        Assert.Equal(SharpVision.Nn.Hardware.CpuFeatures.Current.Bf16Warning() is not null, stderr.Contains("slower than fp32"));
        using var json = JsonDocument.Parse(File.ReadAllText(outPath));
        Assert.All(json.RootElement.EnumerateArray(), m =>
            Assert.Equal(60 * 90, m.GetProperty("segmentation").GetProperty("counts").EnumerateArray().Sum(c => c.GetInt32())));
    }

    [Fact]
    public void Auto_binary_masks_are_pngs_named_in_the_json()
    {
        var outPath = Path.Combine(dir, "masks.json");
        var (code, _, stderr) = Run("segment", "--checkpoint", checkpoint, "--config", config, "--auto", image, "--points-per-side", "2",
            "--pred-iou-thresh", "0", "--stability-score-thresh", "0", "--output-mode", "binary_mask", "--out", outPath);
        Assert.True(code == 0, stderr);
        using var json = JsonDocument.Parse(File.ReadAllText(outPath));
        var masks = json.RootElement.EnumerateArray().ToList();
        Assert.NotEmpty(masks);
        for (int i = 0; i < masks.Count; i++)
        {
            Assert.Equal(Path.Combine("masks.masks", $"{i}.png"), masks[i].GetProperty("segmentation").GetString());
            var (png, mh, mw) = Images.LoadRgb(Path.Combine(dir, "masks.masks", $"{i}.png"));
            Assert.Equal((60, 90), (mh, mw));
            Assert.Equal(masks[i].GetProperty("area").GetInt64(), png.Where((_, j) => j % 3 == 0).Count(v => v == 255));
        }
    }

    [Theory]
    [InlineData("--output-mode", "rle", "--output-mode must be coco_rle, uncompressed_rle or binary_mask")]
    [InlineData("--points-per-side", "0", "--points-per-side must be between 1")]
    [InlineData("--point", "40,30", "--auto takes the image itself and no prompts")]
    [InlineData("--random-weights", null, "--checkpoint FILE or --random-weights")]
    [InlineData("--dtype", "fp16", "--dtype must be fp32 or bf16")]
    public void Bad_auto_arguments_exit_with_code_2_and_one_line(string option, string? value, string expected)
    {
        string[] extra = value is null ? [option] : [option, value];
        var (code, _, stderr) = Run(["segment", "--checkpoint", checkpoint, "--config", config, "--auto", image, .. extra, "--out", Path.Combine(dir, "m.json")]);
        Assert.Equal(2, code);
        Assert.Contains(expected, stderr);
        Assert.Single(stderr.Trim().Split('\n'));
    }

    public void Dispose() => Directory.Delete(dir, recursive: true);
}
