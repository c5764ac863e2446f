using SharpVision.Diffusion.Schedulers;

namespace SharpVision.Tests.Diffusion;

/// <summary>
/// Fixture kind <c>ddim_scheduler</c>: alpha_bar, the timesteps, a chain of steps fed the recorded model outputs
/// (and variance noise when eta &gt; 0), add_noise and get_velocity. The steps pass diffusers' previous timestep
/// (<c>prev_timesteps_reference</c>) explicitly, since our default differs where diffusers' rule is wrong.
/// </summary>
public sealed class DDIMSchedulerParity : IParityHandler
{
    public IReadOnlyCollection<string> Kinds => ["ddim_scheduler"];

    public void Run(ParityCase c, Precision p)
    {
        var scheduler = DDIMScheduler.FromConfigFile(c.PathOf(c.String("config_file")!));
        c.Expect("alphas_cumprod", scheduler.AlphasCumprod, p);

        scheduler.SetTimesteps((int)c.Long("num_inference_steps")!.Value);
        c.Expect("timesteps", tensor(scheduler.Timesteps.ToArray()), p);

        double eta = c.Double("eta") ?? 0.0;
        bool useClipped = c.Bool("use_clipped_model_output");
        var referencePrev = c.Raw("prev_timesteps_reference").data<long>().ToArray();
        var sample = c.Input("initial_sample", p);
        for (int k = 0; k < (int)c.Long("steps_recorded")!.Value; k++)
        {
            long t = scheduler.Timesteps[k];
            Assert.Equal(referencePrev[k], scheduler.ReferencePreviousTimestep(t));
            var output = scheduler.Step(c.Input($"step{k}.model_output", p), t, sample, eta, useClipped,
                varianceNoise: eta > 0 ? c.Input($"step{k}.variance_noise", p) : null, prevTimestep: referencePrev[k]);
            c.Expect($"step{k}.expected_pred_original_sample", output.PredOriginalSample, p);
            c.Expect($"step{k}.expected_prev_sample", output.PrevSample, p);
            sample = output.PrevSample;
        }

        var original = c.Input("add_noise.original", p);
        var noise = c.Input("add_noise.noise", p);
        var timesteps = c.Raw("add_noise.timesteps");
        c.Expect("add_noise.expected", scheduler.AddNoise(original, noise, timesteps), p);
        c.Expect("get_velocity.expected", scheduler.GetVelocity(original, noise, timesteps), p);
    }
}
