using SharpVision.Diffusion.Pipelines;
using SharpVision.Diffusion.Schedulers;

namespace SharpVision.Tests.Pipelines;

/// <summary>
/// Fixture kind <c>sd_prompt_to_image</c>: a whole tiny Stable Diffusion folder (tokenizer, text encoder, UNet, VAE,
/// scheduler, ControlNet where used) run by diffusers v0.33.1 from the prompt and negative prompt with
/// <c>torch.Generator().manual_seed(seed)</c>. Checks the token ids, both prompt embeddings, the generator's draws
/// (<see cref="Latents"/>), the image within the tolerance, and its 8-bit form within 2 of 255 of expected.png's pixels.
/// A case whose scheduler class <see cref="SchedulerFactory"/> does not know yet is skipped, naming it.
/// </summary>
public sealed class StableDiffusionPromptParity : IParityHandler
{
    /// <summary>Largest difference, in 1/255 steps, between an 8-bit channel and expected.png's.</summary>
    public const int PngChannelTolerance = 2;

    public IReadOnlyCollection<string> Kinds => ["sd_prompt_to_image"];

    public void Run(ParityCase c, Precision p)
    {
        var schedulerClass = c.String("scheduler_class") ?? DiffusersPipelineFolder.Open(c.Directory).SchedulerClassName();
        Skip.IfNot(SchedulerFactory.ClassNames.Contains(schedulerClass),
            $"{c.Name}: scheduler class {schedulerClass} is not registered in SchedulerFactory (known: {string.Join(", ", SchedulerFactory.ClassNames)})");
        string prompt = c.String("prompt")!, negative = c.String("negative_prompt")!;
        var controlnet = c.String("controlnet");
        StableDiffusionPipelineBase pipe = controlnet is null
            ? StableDiffusionPipeline.FromPretrained(c.Directory, p.Dtype, schedulerClass)
            : StableDiffusionControlNetPipeline.FromPretrained(c.Directory, [controlnet], p.Dtype, schedulerClass);

        // 1. Tokens and text-encoder states of the prompt and the negative prompt.
        var text = pipe.EncodePrompt([prompt], [negative]);
        Assert.Empty(text.Warnings);
        c.Expect("input_ids", text.InputIds, p);
        c.Expect("negative_input_ids", text.NegativeInputIds!, p);
        c.Expect("expected_prompt_embeds", text.PromptEmbeds, p);
        c.Expect("expected_negative_prompt_embeds", text.NegativePromptEmbeds!, p);

        // 2. The seeded generator's stream: the initial latents, then any ancestral noise, each latent-shaped.
        int height = (int)c.Long("height")!.Value, width = (int)c.Long("width")!.Value, f = pipe.VaeScaleFactor;
        long[] latentShape = [1, pipe.Unet.Config.InChannels, height / f, width / f];
        var drawn = c.Raw("drawn_noise");
        long perDraw = latentShape.Aggregate(1L, (a, b) => a * b);
        Assert.Equal(0, drawn.numel() % perDraw);
        using (var g = new Generator((ulong)c.Long("seed")!.Value))
        {
            var draws = Enumerable.Range(0, (int)(drawn.numel() / perDraw)).Select(_ => Latents.Randn(latentShape, g).flatten()).ToArray();
            ParityCase.AssertClose($"{c.Name} drawn_noise", torch.cat(draws), drawn, 0, 0);
        }

        // 3. The image from text, seeded as diffusers was.
        using var generator = new Generator((ulong)c.Long("seed")!.Value);
        int steps = (int)c.Long("num_inference_steps")!.Value;
        double guidance = c.Double("guidance_scale")!.Value;
        var output = pipe switch
        {
            StableDiffusionPipeline sd => sd.Call(prompt, negative,
                new StableDiffusionOptions { NumInferenceSteps = steps, GuidanceScale = guidance, Height = height, Width = width }, generator),
            StableDiffusionControlNetPipeline cn => cn.Call(prompt, negative, [c.Input("control_image", p)], new StableDiffusionControlNetOptions
            {
                NumInferenceSteps = steps, GuidanceScale = guidance, Height = height, Width = width,
                ConditioningScales = [c.Double("controlnet_conditioning_scale") ?? 1.0],
            }, generator),
            _ => throw new InvalidOperationException(pipe.GetType().Name),
        };
        var image = output.Images![0].permute(1, 2, 0); // (H, W, 3), diffusers' output_type="np"
        c.Expect("expected_image", image, p);
        var bytes = (image.to(ScalarType.Float64) * 255).round().clamp(0, 255); // the 8-bit PNG's channels
        ParityCase.AssertClose($"{c.Name} [{p}] expected_png_rgb", bytes, c.Raw("expected_png_rgb").to(ScalarType.Float64), 0, PngChannelTolerance);
    }
}
