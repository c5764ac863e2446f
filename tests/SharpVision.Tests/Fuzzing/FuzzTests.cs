using Xunit.Abstractions;

namespace SharpVision.Tests.Fuzzing;

/// <summary>
/// Mutation fuzzing of every reader of untrusted files, for a fixed, seeded number of executions (so CI is
/// deterministic and cheap), plus a replay of every input that once broke a reader (tests/fuzz-regressions/TARGET/).
/// A longer run: SHARPVISION_FUZZ_EXECUTIONS=200000 (and SHARPVISION_FUZZ_SEED=N for fresh inputs).
/// </summary>
public sealed class FuzzTests(ITestOutputHelper output)
{
    public static TheoryData<string> Targets => [.. FuzzTargets.All.Select(t => t.Name)];

    [Theory, MemberData(nameof(Targets))]
    public void MutatedInputsReadOrFailWithTheDocumentedException(string name)
    {
        var target = FuzzTargets.Named(name);
        int executions = FuzzRunner.Executions(target);
        var (ran, read) = FuzzRunner.Fuzz(target, executions, FuzzRunner.Seed);
        output.WriteLine($"{name}: {ran} executions, seed {FuzzRunner.Seed}, {read} read, {ran - read} rejected as documented");
        Assert.Equal(executions, ran);
    }

    [Theory, MemberData(nameof(Targets))]
    public void EveryInputThatOnceBrokeTheReaderNowKeepsTheContract(string name)
    {
        var target = FuzzTargets.Named(name);
        var files = Directory.Exists(target.RegressionFolder) ? Directory.GetFiles(target.RegressionFolder) : [];
        foreach (var file in files.Order(StringComparer.Ordinal))
            FuzzRunner.Check(target, File.ReadAllBytes(file), $"regression input {Path.GetFileName(file)}");
        output.WriteLine($"{name}: {files.Length} regression inputs replayed");
    }

    [Theory, MemberData(nameof(Targets))]
    public void TheSeedInputsRead(string name)
    {
        var target = FuzzTargets.Named(name);
        Assert.All(target.Seeds(), target.Run); // throws the reader's exception if a seed does not read
    }
}

/// <summary>The hostile inputs kept as regressions fail, and say what is wrong (not only that they do not crash).</summary>
public sealed class FuzzRegressionMessageTests
{
    [Theory]
    [InlineData("safetensors", "header-length-past-end.bin", "exceeds the file's remaining")]
    [InlineData("safetensors", "huge-shape-small-file.bin", "needs 4000000000000 bytes")]
    [InlineData("safetensors", "shape-product-overflows.bin", "overflows")]
    [InlineData("safetensors", "negative-dimension.bin", "non-negative")]
    [InlineData("safetensors", "overlapping-offsets.bin", "overlap")]
    [InlineData("safetensors", "negative-offset.bin", "non-negative")]
    [InlineData("safetensors", "offsets-past-end.bin", "the file holds 8")]
    [InlineData("safetensors", "bytes-not-dtype-times-shape.bin", "needs 12 bytes")]
    [InlineData("safetensors", "metadata-not-strings.bin", "__metadata__ value of 'epoch'")]
    [InlineData("safetensors", "unknown-dtype.bin", "unsupported dtype 'F8_E4M3'")]
    [InlineData("safetensors", "name-not-utf8.bin", "UTF-8")]
    [InlineData("torch-save", "truncated-zip.bin", "not a readable torch.save zip")]
    [InlineData("torch-save", "global-os-system.bin", "refusing global 'posix.system'")]
    [InlineData("torch-save", "global-builtins-eval.bin", "refusing global 'builtins.eval'")]
    [InlineData("torch-save", "global-inside-tensor-args.bin", "refusing global 'subprocess.Popen'")]
    [InlineData("torch-save", "view-past-storage.bin", "does not fit its storage")]
    [InlineData("torch-save", "huge-shape-small-storage.bin", "does not fit its storage")]
    [InlineData("torch-save", "storage-numel-larger-than-entry.bin", "the zip entry holds 24")]
    [InlineData("torch-save", "missing-storage-entry.bin", "no archive/data/7")]
    [InlineData("torch-save", "no-data-pkl.bin", "found 0")]
    [InlineData("torch-save", "length-past-end-of-pickle.bin", "runs past the end")]
    [InlineData("torch-save", "unknown-opcode.bin", "opcode 0x69")]
    [InlineData("idx", "dimension-product-overflows.bin", "more than 2^63")]
    [InlineData("idx", "negative-dimension.bin", "negative dimension")]
    [InlineData("idx-gzip", "gzip-bomb-past-declared-size.bin", "promises 10 values")]
    [InlineData("idx-gzip", "truncated-gzip.bin", "fuzz.idx.gz")]
    [InlineData("unet2d-config", "null-block-out-channels.bin", "block_out_channels")]
    [InlineData("unet2d-config", "wrong-type-layers.bin", "layers_per_block")]
    [InlineData("autoencoderkl-config", "null-down-block-types.bin", "down_block_types")]
    [InlineData("autoencoderkl-config", "int-overflow.bin", "latent_channels")]
    [InlineData("scheduler-config", "wrong-type-names-the-file.bin", "dynamic_thresholding_ratio")]
    [InlineData("scheduler-config", "unknown-class.bin", "EvilScheduler")]
    [InlineData("scheduler-config", "null-prediction-type.bin", "prediction_type")]
    [InlineData("sam-config", "null-global-attn-indexes.bin", "encoder_global_attn_indexes")]
    [InlineData("image", "declares-100000-square.bin", "at most 16384 per side")]
    [InlineData("image", "declares-16385-wide.bin", "16385x1")]
    [InlineData("image", "found-16384-square-from-133-bytes.bin", "from only 133 bytes")]
    [InlineData("image", "not-an-image.bin", "not a readable image")]
    [InlineData("clip-tokenizer-config", "bos-token-not-in-vocab.bin", "tokenizer_config.json: bos_token 'NaN' is not in")]
    public void FailsNamingTheProblem(string name, string file, string expected)
    {
        var target = FuzzTargets.Named(name);
        var input = File.ReadAllBytes(Path.Combine(target.RegressionFolder, file));
        var e = Assert.ThrowsAny<Exception>(() => target.Run(input));
        Assert.Contains(target.Allowed, t => t.IsInstanceOfType(e));
        Assert.Contains(expected, e.Message);
    }
}
