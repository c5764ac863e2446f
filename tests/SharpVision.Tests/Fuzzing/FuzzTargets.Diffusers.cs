using System.Text;
using SharpVision.Diffusion.Clip;
using SharpVision.Diffusion.ControlNet;
using SharpVision.Diffusion.Models;
using SharpVision.Diffusion.Models.Autoencoders;
using SharpVision.Diffusion.Pipelines;
using SharpVision.Tests.Parity;

namespace SharpVision.Tests.Fuzzing;

/// <summary>
/// The readers of a downloaded diffusers pipeline folder beyond the weights: model_index.json, each component's
/// config.json, and the CLIP tokenizer's four files.
/// </summary>
public static partial class FuzzTargets
{
    const string ConfigSource = "fuzz/config.json";

    static IEnumerable<FuzzTarget> PipelineFolderTargets() =>
    [
        new("model-index", DiffusersPipelineFolder.ModelIndexFileName,
            () => [Fixture("sdfull", "sd_tiny_controlnet_prompt_to_image", "model_index.json"), Fixture("sdpipe", "sd_controlnet_ddim", "model_index.json")],
            ReadModelIndex, [typeof(InvalidDataException)], (m, input, others) => m.MutateJsonText(input, others), 2000),
        Config("clip-text-config", (json, source) => CLIPTextConfig.FromJson(json, source), c => c.ToJson(),
            ["clip", "clip_text_quick_gelu", "text_encoder", "config.json"], ["clip", "clip_text_gelu_clip_skip", "text_encoder", "config.json"]),
        Config("unet2d-condition-config", (json, source) => UNet2DConditionModelConfig.FromJson(json, source), c => c.ToJson(),
            ["controlnet", "controlnet_fresh", "unet", "config.json"], ["sdpipe", "sd_controlnet_ddim", "unet", "config.json"]),
        Config("controlnet-config", (json, source) => ControlNetModelConfig.FromJson(json, source), c => c.ToJson(),
            ["controlnet", "controlnet_fresh", "controlnet", "config.json"], ["sdpipe", "sd_controlnet_ddim", "controlnet", "config.json"]),
        Config("vqmodel-config", (json, source) => VQModelConfig.FromJson(json, source), c => c.ToJson(),
            ["vq", "vq_model_small", "config.json"]),
        Tokenizer(CLIPTokenizer.VocabFileName, "clip-tokenizer-vocab", (m, input, others) => m.MutateJsonText(input, others)),
        Tokenizer(CLIPTokenizer.MergesFileName, "clip-tokenizer-merges", (m, input, others) => m.MutateBytes(input, others)),
        Tokenizer(CLIPTokenizer.ConfigFileName, "clip-tokenizer-config", (m, input, others) => m.MutateJsonText(input, others)),
        Tokenizer(CLIPTokenizer.SpecialTokensFileName, "clip-tokenizer-special-tokens", (m, input, others) => m.MutateJsonText(input, others)),
    ];

    /// <summary>A diffusers config.json reader: what reads must round-trip (<see cref="RoundTrip"/>).</summary>
    static FuzzTarget Config<T>(string name, Func<string, string, T> fromJson, Func<T, string> toJson, params string[][] seeds) where T : notnull =>
        new(name, ConfigSource, () => [.. seeds.Select(Fixture)],
            input => RoundTrip(fromJson(Encoding.UTF8.GetString(input), ConfigSource), toJson),
            [typeof(InvalidDataException)], (m, input, others) => m.MutateJsonText(input, others), 2000);

    // ---- model_index.json --------------------------------------------------------------------------------------

    static void ReadModelIndex(byte[] input)
    {
        var dir = ScratchFolder("model-index");
        File.WriteAllBytes(Path.Combine(dir, DiffusersPipelineFolder.ModelIndexFileName), input);
        var folder = DiffusersPipelineFolder.Open(dir);
        foreach (var name in folder.Components.Keys)
        {
            folder.Has(name);
            folder.Provides(name);
        }
        if (folder.Components.TryGetValue("scheduler", out var s) && s.ClassName is not null) folder.SchedulerClassName();
    }

    // ---- CLIP tokenizer ----------------------------------------------------------------------------------------

    static readonly string[] TokenizerFiles =
        [CLIPTokenizer.VocabFileName, CLIPTokenizer.MergesFileName, CLIPTokenizer.ConfigFileName, CLIPTokenizer.SpecialTokensFileName];

    /// <summary>The tokenizer folder with <paramref name="file"/> fuzzed and the other three files kept valid.</summary>
    static FuzzTarget Tokenizer(string file, string name, Func<Mutator, byte[], IReadOnlyList<byte[]>, byte[]> mutate) =>
        new(name, file, () => [.. new[] { "clip_tokenizer_pad_bang", "clip_tokenizer_pad_eos" }.Select(f => Fixture("clip", f, "tokenizer", file)).Distinct(ByteArrayComparer.Instance)],
            input => ReadTokenizer(name, file, input), [typeof(InvalidDataException)], mutate, 400); // ~5 ms an input: BPE built each time

    /// <summary>A tokenizer that reads must be usable: it tokenizes a prompt (past the length limit) and decodes the ids.</summary>
    static void ReadTokenizer(string name, string file, byte[] input)
    {
        var dir = ScratchFolder(name);
        foreach (var f in TokenizerFiles)
            if (f == file) File.WriteAllBytes(Path.Combine(dir, f), input);
            else if (!File.Exists(Path.Combine(dir, f))) File.Copy(FixtureRoot.Combine("clip", "clip_tokenizer_pad_bang", "tokenizer", f), Path.Combine(dir, f));
        var tokenizer = CLIPTokenizer.FromPretrained(dir);
        var encoding = tokenizer.Tokenize(string.Concat(Enumerable.Repeat("a photo of an astronaut riding a horse on mars, 4k! ", 8)));
        tokenizer.Decode(encoding.InputIds, skipSpecialTokens: true);
    }

    /// <summary>A folder of this process for one target's files (targets run one at a time each).</summary>
    static string ScratchFolder(string name)
    {
        var dir = Path.Combine(Path.GetTempPath(), $"sv-fuzz-{Environment.ProcessId}", name);
        Directory.CreateDirectory(dir);
        return dir;
    }

    sealed class ByteArrayComparer : IEqualityComparer<byte[]>
    {
        public static readonly ByteArrayComparer Instance = new();
        public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);
        public int GetHashCode(byte[] b) => b.Length;
    }
}
