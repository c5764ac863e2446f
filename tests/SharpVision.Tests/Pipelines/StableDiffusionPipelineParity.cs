using System.Text.Json;
using SharpVision.Diffusion.Models;
using SharpVision.Diffusion.Models.Autoencoders;
using SharpVision.Diffusion.Pipelines;
using SharpVision.Diffusion.Schedulers;

namespace SharpVision.Tests.Pipelines;

/// <summary>
/// Fixture kinds <c>sd_txt2img</c>, <c>sd_img2img</c> and <c>sd_controlnet</c>: diffusers v0.33.1's Stable Diffusion
/// pipelines on a tiny pipeline folder (model_index.json), from the recorded prompt embeddings, latents and random draws
/// (the flat <c>noise</c> tensor, sliced in call order); the (B, H, W, 3) image must match. A case whose scheduler class
/// <see cref="SchedulerFactory"/> does not know yet is skipped, naming it.
/// </summary>
public sealed class StableDiffusionPipelineParity : IParityHandler
{
    public IReadOnlyCollection<string> Kinds => ["sd_txt2img", "sd_img2img", "sd_controlnet"];

    public void Run(ParityCase c, Precision p)
    {
        var folder = DiffusersPipelineFolder.Open(c.Directory);
        var schedulerClass = c.String("scheduler_class") ?? folder.SchedulerClassName();
        Skip.IfNot(SchedulerFactory.ClassNames.Contains(schedulerClass),
            $"{c.Name}: scheduler class {schedulerClass} is not registered in SchedulerFactory (known: {string.Join(", ", SchedulerFactory.ClassNames)})");

        var unet = folder.LoadUNet(p.Dtype);
        var vae = folder.LoadVae(p.Dtype);
        var scheduler = folder.LoadScheduler(schedulerClass);
        var prompt = c.Input("prompt_embeds", p);
        var negative = c.Has("negative_prompt_embeds") ? c.Input("negative_prompt_embeds", p) : null;
        var draws = new RecordedDraws(c.Has("noise") ? c.Input("noise", p) : null);
        int steps = (int)c.Long("num_inference_steps")!.Value;
        double guidance = c.Double("guidance_scale")!.Value;

        StableDiffusionOutput output = c.Kind switch
        {
            "sd_txt2img" => new StableDiffusionPipeline(unet, vae, scheduler).Call(prompt, negative, new StableDiffusionOptions
            {
                NumInferenceSteps = steps, GuidanceScale = guidance, Height = (int?)c.Long("height"), Width = (int?)c.Long("width"),
                Latents = c.Input("latents", p),
            }),
            "sd_img2img" => Img2Img(c, p, unet, vae, scheduler, prompt, negative, draws, steps, guidance),
            _ => new StableDiffusionControlNetPipeline(unet, vae, scheduler, Strings(c, "controlnets").Select(n => folder.LoadControlNet(n, p.Dtype)).ToArray())
                .Call(prompt, negative, Enumerable.Range(0, Strings(c, "controlnets").Count).Select(k => c.Input($"control_image.{k}", p)).ToArray(),
                    new StableDiffusionControlNetOptions
                    {
                        NumInferenceSteps = steps, GuidanceScale = guidance, Latents = c.Input("latents", p),
                        ConditioningScales = Doubles(c, "controlnet_conditioning_scale"), GuessMode = c.Bool("guess_mode"),
                        ControlGuidanceStart = Doubles(c, "control_guidance_start"), ControlGuidanceEnd = Doubles(c, "control_guidance_end"),
                    }),
        };
        c.Expect("expected_image", output.Images!.permute(0, 2, 3, 1), p); // (B, H, W, 3), diffusers' output_type="np"
    }

    static StableDiffusionOutput Img2Img(ParityCase c, Precision p, UNet2DConditionModel unet, AutoencoderKL vae,
        IDiffusionScheduler scheduler, Tensor prompt, Tensor? negative, RecordedDraws draws, int steps, double guidance)
    {
        var image = c.Input("init_image", p);
        int f = 1 << (vae.Config.BlockOutChannels.Count - 1);
        long[] latentShape = [image.shape[0], vae.Config.LatentChannels, image.shape[2] / f, image.shape[3] / f];
        // diffusers draws the VAE posterior's noise, then the noise added at the first timestep.
        var posteriorNoise = draws.Next(latentShape);
        var noise = draws.Next([prompt.shape[0], .. latentShape[1..]]);
        return new StableDiffusionImg2ImgPipeline(unet, vae, scheduler).Call(prompt, negative, image, new StableDiffusionImg2ImgOptions
        {
            NumInferenceSteps = steps, GuidanceScale = guidance, Strength = c.Double("strength")!.Value,
            ImageLatentNoise = posteriorNoise, Noise = noise,
        });
    }

    static IReadOnlyList<string> Strings(ParityCase c, string name) => c.Params.GetProperty(name).EnumerateArray().Select(e => e.GetString()!).ToArray();

    static IReadOnlyList<double> Doubles(ParityCase c, string name)
    {
        var e = c.Params.GetProperty(name);
        return e.ValueKind == JsonValueKind.Array ? e.EnumerateArray().Select(x => x.GetDouble()).ToArray() : [e.GetDouble()];
    }

    /// <summary>The fixture's random draws: consecutive slices of one flat tensor, each reshaped to the requested shape.</summary>
    sealed class RecordedDraws(Tensor? flat)
    {
        long offset;

        public Tensor Next(long[] shape)
        {
            if (flat is null) throw new InvalidOperationException("the case recorded no random draws ('noise')");
            long n = shape.Aggregate(1L, (a, b) => a * b);
            if (offset + n > flat.numel()) throw new InvalidOperationException($"the recorded noise has {flat.numel()} values; {offset + n} needed");
            var slice = flat.narrow(0, offset, n).reshape(shape);
            offset += n;
            return slice;
        }
    }
}
