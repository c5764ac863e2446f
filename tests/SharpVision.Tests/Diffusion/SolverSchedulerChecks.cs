using SharpVision.Diffusion.Schedulers;

namespace SharpVision.Tests.Diffusion;

/// <summary>
/// Checks the exponential solvers' tests share (DPM-Solver multistep and singlestep, UniPC, DEIS): a deterministic
/// toy loop, the config error contract, and stepping before SetTimesteps.
/// </summary>
static class SolverSchedulerChecks
{
    /// <summary>A scheduler of class <typeparamref name="T"/> read through the factory from a config with the given extra JSON members.</summary>
    public static T Create<T>(string options = "") where T : IDiffusionScheduler =>
        (T)SchedulerFactory.Create(SchedulerFactory.ReadConfig($$"""{"_class_name": "{{typeof(T).Name}}"{{options}}}"""));

    /// <summary>A full sampling loop with a fixed toy model (output = 0.5 x + 0.1 t / T), from seeded noise.</summary>
    public static Tensor RunLoop(IDiffusionScheduler scheduler, int steps, ulong seed = 7)
    {
        scheduler.SetTimesteps(steps);
        var x = randn([2, 3, 4, 4], generator: new Generator(seed)) * scheduler.InitNoiseSigma;
        var noise = new Generator(seed + 1);
        foreach (double t in scheduler.Timesteps)
        {
            var input = scheduler.ScaleModelInput(x, t);
            var output = 0.5 * input + 0.1 * t / scheduler.Config.NumTrainTimesteps;
            x = scheduler.Step(output, t, x, noise: randn(x.shape, generator: noise)).PrevSample;
        }
        return x;
    }

    /// <summary>Two loops on one scheduler give the same result: SetTimesteps clears the model-output history.</summary>
    public static void AssertLoopsRepeat(IDiffusionScheduler scheduler, int steps)
    {
        var first = RunLoop(scheduler, steps);
        var second = RunLoop(scheduler, steps);
        Assert.True(first.isfinite().all().item<bool>(), "the loop produced non-finite values");
        Assert.Equal(first.data<float>().ToArray(), second.data<float>().ToArray());
    }

    /// <summary>
    /// A loop twice as long leaves as many live tensors as a short one: the scheduler keeps only its bounded history
    /// (the previous loop's is freed by SetTimesteps) and every step's temporaries die with the caller's scope.
    /// </summary>
    public static void AssertLiveCountFlat(IDiffusionScheduler scheduler)
    {
        using (NewDisposeScope()) RunLoop(scheduler, 6);
        long afterShort = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        using (NewDisposeScope()) RunLoop(scheduler, 12);
        Assert.Equal(afterShort, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    /// <summary>Reading <paramref name="json"/> through the factory fails with an ArgumentException naming the key and every allowed value.</summary>
    public static void AssertRejected(string json, string key, params string[] mentioned)
    {
        var e = Assert.ThrowsAny<ArgumentException>(() => SchedulerFactory.Create(SchedulerFactory.ReadConfig(json)));
        Assert.Equal(key, e.ParamName);
        Assert.Contains(key, e.Message);
        foreach (var m in mentioned) Assert.Contains(m, e.Message);
    }

    /// <summary>Step before SetTimesteps is an InvalidOperationException that tells the caller what to do.</summary>
    public static void AssertStepNeedsTimesteps(IDiffusionScheduler scheduler)
    {
        var x = zeros(1, 3, 4, 4);
        var e = Assert.Throws<InvalidOperationException>(() => scheduler.Step(x, 999, x));
        Assert.Contains("SetTimesteps", e.Message);
    }
}
