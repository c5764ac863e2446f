using SharpVision.Diffusion.Schedulers;

namespace SharpVision.Tests.Diffusion;

/// <summary>Fixture kind <c>ddim_inverse_scheduler</c>: the ascending timesteps and the inversion chain toward noise.</summary>
public sealed class DDIMInverseSchedulerParity : IParityHandler
{
    public IReadOnlyCollection<string> Kinds => ["ddim_inverse_scheduler"];

    public void Run(ParityCase c, Precision p)
    {
        var scheduler = DDIMInverseScheduler.FromConfigFile(c.PathOf(c.String("config_file")!));
        int n = (int)c.Long("num_inference_steps")!.Value;
        scheduler.SetTimesteps(n);
        c.Expect("timesteps", tensor(scheduler.Timesteps.ToArray()), p);

        var sample = c.Input("initial_sample", p);
        for (int k = 0; k < n; k++)
        {
            long t = scheduler.Timesteps[k];
            // The cases use spacings where diffusers' start timestep is the schedule's previous entry (or before it).
            long reference = scheduler.ReferenceStartTimestep(t);
            Assert.Equal(reference < 0 ? -1 : reference, scheduler.StartTimestep(t));
            var output = scheduler.Step(c.Input($"step{k}.model_output", p), t, sample);
            c.Expect($"step{k}.expected_next_sample", output.PrevSample, p);
            sample = output.PrevSample;
        }
    }
}
