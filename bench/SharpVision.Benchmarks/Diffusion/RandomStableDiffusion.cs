using SharpVision.Benchmarks.Measurement;
using SharpVision.Diffusion.Clip;
using SharpVision.Diffusion.Models;
using SharpVision.Diffusion.Models.Autoencoders;
using SharpVision.Diffusion.Pipelines;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Benchmarks.Diffusion;

/// <summary>
/// Stable Diffusion 1.5 with random weights: the models built from the real configuration folder (model_index.json and
/// the unet/, vae/, text_encoder/, scheduler/ configs, no weights), read in place from
/// <c>shared/reference-data/sd-configs/stable-diffusion-v1-5</c>, and the real CLIP ViT-L/14 tokenizer from
/// <c>shared/reference-data/clip-vit-large-patch14-tokenizer/tokenizer</c>. Each model is seeded on its own, so a
/// component has the same weights in every benchmark and dtype. Nothing is downloaded.
/// </summary>
internal sealed class RandomStableDiffusion : IDisposable
{
    public const string Prompt = "a photograph of an astronaut riding a horse on mars";
    /// <summary>The 20-step solver the benchmarks use on the folder's noise schedule (the folder's own is PNDM).</summary>
    public const string SchedulerClassName = "DPMSolverMultistepScheduler";
    public const int Size = 512, Threads = 2;
    public const double GuidanceScale = 7.5;

    public CLIPTokenizer Tokenizer { get; }
    public CLIPTextModel TextEncoder { get; }
    public StableDiffusionPipeline Pipeline { get; }

    RandomStableDiffusion(CLIPTokenizer tokenizer, CLIPTextModel textEncoder, StableDiffusionPipeline pipeline)
    {
        Tokenizer = tokenizer;
        TextEncoder = textEncoder;
        Pipeline = pipeline;
    }

    /// <summary>Tokenizer, text encoder and the fp32 pipeline (UNet, VAE, DPM-Solver++ on the folder's schedule).</summary>
    /// <exception cref="DirectoryNotFoundException">shared/reference-data or one of its folders is missing.</exception>
    public static RandomStableDiffusion Build()
    {
        var folder = Folder();
        return new RandomStableDiffusion(CreateTokenizer(), CreateTextEncoder(folder),
            new StableDiffusionPipeline(CreateUnet(folder), CreateVae(folder), folder.LoadScheduler(SchedulerClassName)));
    }

    /// <summary>The SD 1.5 configuration folder.</summary>
    public static DiffusersPipelineFolder Folder() => DiffusersPipelineFolder.Open(ReferenceData.Require("sd-configs/stable-diffusion-v1-5"));

    public static CLIPTokenizer CreateTokenizer() => CLIPTokenizer.FromPretrained(ReferenceData.Require("clip-vit-large-patch14-tokenizer/tokenizer"));

    /// <summary>The UNet (860M parameters), float32, eval mode.</summary>
    public static UNet2DConditionModel CreateUnet(DiffusersPipelineFolder folder) =>
        Seeded(1, () => new UNet2DConditionModel(UNet2DConditionModelConfig.FromFile(ConfigPath(folder, "unet", nameof(UNet2DConditionModel)))));

    /// <summary>The VAE (84M parameters), float32, eval mode.</summary>
    public static AutoencoderKL CreateVae(DiffusersPipelineFolder folder) =>
        Seeded(2, () => new AutoencoderKL(AutoencoderKLConfig.FromFile(ConfigPath(folder, "vae", nameof(AutoencoderKL)))));

    /// <summary>CLIP ViT-L/14's text encoder (123M parameters), float32, eval mode.</summary>
    public static CLIPTextModel CreateTextEncoder(DiffusersPipelineFolder folder) =>
        Seeded(3, () => new CLIPTextModel(CLIPTextConfig.FromFile(ConfigPath(folder, "text_encoder", nameof(CLIPTextModel)))));

    static string ConfigPath(DiffusersPipelineFolder folder, string component, string className) =>
        Path.Combine(folder.ComponentPath(component, className), "config.json");

    static T Seeded<T>(int seed, Func<T> build) where T : nn.Module
    {
        torch.manual_seed(seed);
        var model = build();
        model.eval();
        return model;
    }

    /// <summary>(B, 77) int64 token ids of the prompts, padded as the pipeline tokenizes them.</summary>
    public static Tensor TokenIds(CLIPTokenizer tokenizer, params string[] prompts)
    {
        using var tokens = tokenizer.TokenizeBatch(prompts);
        return tokens.InputIds.alias();
    }

    /// <summary>
    /// Prompt to image, as diffusers' <c>StableDiffusionPipeline(prompt)</c> does it: the prompt and the empty negative
    /// prompt tokenized and encoded in one batch of 2, then <see cref="StableDiffusionPipeline.Call"/> from those
    /// embeddings (the library's pipeline takes prompt embeddings, not text), classifier-free guidance 7.5.
    /// </summary>
    /// <returns>(1, 3, 512, 512) in [0, 1].</returns>
    public Tensor TextToImage(string prompt, int steps, ulong seed)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        using var generator = new Generator(seed);
        var embeds = TextEncoder.EncodePrompt(TokenIds(Tokenizer, "", prompt)); // (2, 77, 768): negative, prompt
        var output = Pipeline.Call(embeds.narrow(0, 1, 1), embeds.narrow(0, 0, 1),
            new StableDiffusionOptions { NumInferenceSteps = steps, GuidanceScale = GuidanceScale, Height = Size, Width = Size }, generator);
        return output.Images!.MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        TextEncoder.Dispose();
        Pipeline.Unet.Dispose();
        Pipeline.Vae.Dispose();
    }
}
