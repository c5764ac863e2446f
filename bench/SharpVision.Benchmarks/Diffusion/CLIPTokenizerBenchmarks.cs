using BenchmarkDotNet.Attributes;
using SharpVision.Benchmarks.Measurement;
using SharpVision.Diffusion.Clip;

namespace SharpVision.Benchmarks.Diffusion;

/// <summary>
/// CLIPTokenizer.Tokenize (clean, pre-tokenize, BPE, pad to 77) of a typical Stable Diffusion prompt with the real
/// SD 1.x vocabulary (49,408 tokens), read in place from shared/reference-data/clip-vit-large-patch14-tokenizer beside
/// the repository. Warm: the BPE cache holds the prompt's words after the first call, as in a pipeline that reuses
/// prompts; Cold: each call adds one word not seen before, so its BPE merges run.
/// </summary>
[MemoryDiagnoser, MinColumn]
public class CLIPTokenizerBenchmarks
{
    const string Prompt = "a photograph of an astronaut riding a horse on mars, highly detailed, digital art, " +
                          "trending on artstation, sharp focus, 8k, cinematic lighting";

    CLIPTokenizer tokenizer = null!;
    int counter;

    [GlobalSetup]
    public void Setup()
    {
        tokenizer = CLIPTokenizer.FromPretrained(ReferenceData.Require("clip-vit-large-patch14-tokenizer/tokenizer"));
    }

    [Benchmark(Baseline = true)]
    public CLIPEncoding Warm() => tokenizer.Tokenize(Prompt);

    [Benchmark]
    public CLIPEncoding Cold() => tokenizer.Tokenize($"{Prompt} zq{counter++:x}vk");
}
