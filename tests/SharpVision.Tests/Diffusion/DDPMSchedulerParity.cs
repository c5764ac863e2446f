using SharpVision.Diffusion.Schedulers;

namespace SharpVision.Tests.Diffusion;

/// <summary>
/// Fixture kind <c>ddpm_scheduler</c>: the timesteps and a chain of ancestral steps fed the recorded model outputs,
/// with the recorded noise in place of the reference's random draw.
/// </summary>
public sealed class DDPMSchedulerParity : IParityHandler
{
    public IReadOnlyCollection<string> Kinds => ["ddpm_scheduler"];

    public void Run(ParityCase c, Precision p)
    {
        var scheduler = DDPMScheduler.FromConfigFile(c.PathOf(c.String("config_file")!));
        // num_inference_steps null: the full training schedule, no set_timesteps call.
        if (c.Long("num_inference_steps") is { } n) scheduler.SetTimesteps((int)n);
        c.Expect("timesteps", tensor(scheduler.Timesteps.ToArray()), p);

        var sample = c.Input("initial_sample", p);
        for (int k = 0; k < (int)c.Long("steps_recorded")!.Value; k++)
        {
            var output = scheduler.Step(c.Input($"step{k}.model_output", p), scheduler.Timesteps[k], sample,
                varianceNoise: c.Input($"step{k}.variance_noise", p));
            c.Expect($"step{k}.expected_pred_original_sample", output.PredOriginalSample, p);
            c.Expect($"step{k}.expected_prev_sample", output.PrevSample, p);
            sample = output.PrevSample;
        }
    }
}
