using BenchmarkDotNet.Attributes;
using SharpVision.Diffusion.Schedulers;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Benchmarks.Diffusion;

/// <summary>
/// One <c>Step</c> of every scheduler <see cref="SchedulerFactory"/> builds, on a (2, 4, 64, 64) float32 latent (a
/// batch of two 512×512 Stable Diffusion latents, as with classifier-free guidance), in the middle of a 20-step
/// schedule, beside one elementwise add on the same latent (the baseline, so the Ratio column reads "costs as much as
/// N tensor adds"). Each scheduler is built from Stable Diffusion's scheduler_config.json (scaled_linear
/// 0.00085–0.012, T = 1000) through <see cref="SchedulerFactory.ReadConfig"/>, keeping the keys its class knows.
/// </summary>
/// <remarks>
/// A step changes the scheduler's state (the step index, multistep histories), so a step cannot simply be repeated.
/// Before each iteration the setup builds <see cref="InvocationsPerIteration"/> schedulers and steps each of them
/// through the first half of the schedule with fixed model outputs; every invocation then takes the middle step of
/// the next one, so multistep solvers do their full-order work every time. Stochastic schedulers draw their noise
/// from a seeded generator inside the step, which is part of its cost. Run all with
/// <c>dotnet run -c Release --project bench/SharpVision.Benchmarks -- --filter '*SchedulerStep*' --job short</c>;
/// <c>--filter</c> does not see parameter values, so to time a few set
/// <c>SHARPVISION_BENCH_SCHEDULERS=PNDMScheduler,LCMScheduler</c>.
/// </remarks>
[InvocationCount(InvocationsPerIteration)]
public class SchedulerStepBenchmarks
{
    public const int InvocationsPerIteration = 64, InferenceSteps = 20, ModelOutputs = 4;
    public const string ScheduleEnvironmentVariable = "SHARPVISION_BENCH_SCHEDULERS";

    /// <summary>Stable Diffusion v1's scheduler_config.json; keys a class does not know are dropped by ReadConfig.</summary>
    const string StableDiffusionConfig = """
        {
          "beta_end": 0.012,
          "beta_schedule": "scaled_linear",
          "beta_start": 0.00085,
          "clip_sample": false,
          "num_train_timesteps": 1000,
          "set_alpha_to_one": false,
          "skip_prk_steps": true,
          "steps_offset": 1,
          "trained_betas": null
        }
        """;

    /// <summary>Every class the factory knows, or the comma-separated subset in <see cref="ScheduleEnvironmentVariable"/>.</summary>
    public static IEnumerable<string> ClassNames()
    {
        var only = Environment.GetEnvironmentVariable(ScheduleEnvironmentVariable);
        if (string.IsNullOrWhiteSpace(only)) return SchedulerFactory.ClassNames;
        var wanted = only.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
        return SchedulerFactory.ClassNames.Where(wanted.Contains);
    }

    [ParamsSource(nameof(ClassNames))]
    public string Scheduler { get; set; } = "";

    SchedulerConfig config = null!;
    Tensor initialSample = null!;
    Tensor[] modelOutputs = [];
    Generator generator = null!;
    (IDiffusionScheduler Scheduler, Tensor Sample, double Timestep, Tensor ModelOutput)[] prepared = [];
    int next;

    [GlobalSetup]
    public void Setup()
    {
        config = SchedulerFactory.ReadConfig(StableDiffusionConfig, Scheduler, "Stable Diffusion scheduler config");
        var seeded = new Generator(0);
        initialSample = randn([2, 4, 64, 64], generator: seeded);
        modelOutputs = Enumerable.Range(0, ModelOutputs).Select(_ => randn([2, 4, 64, 64], generator: seeded)).ToArray();
        generator = new Generator(1);
    }

    /// <summary>
    /// Builds this iteration's schedulers, each stepped to the middle of its schedule. Nothing here is disposed
    /// explicitly: a scheduler may keep the samples and model outputs it was given, so they live until collected.
    /// </summary>
    [IterationSetup(Target = nameof(Step))]
    public void PrepareSchedulers()
    {
        prepared = new (IDiffusionScheduler, Tensor, double, Tensor)[InvocationsPerIteration];
        for (int i = 0; i < prepared.Length; i++)
        {
            var scheduler = SchedulerFactory.Create(config);
            scheduler.SetTimesteps(InferenceSteps);
            int middle = scheduler.Timesteps.Count / 2;
            var sample = initialSample * scheduler.InitNoiseSigma;
            for (int k = 0; k < middle; k++)
                sample = scheduler.Step(modelOutputs[k % ModelOutputs], scheduler.Timesteps[k], sample, generator: generator).PrevSample;
            prepared[i] = (scheduler, sample, scheduler.Timesteps[middle], modelOutputs[middle % ModelOutputs]);
        }
        next = 0;
    }

    /// <summary>The middle step of one prepared scheduler (its outputs freed at the end).</summary>
    [Benchmark]
    public void Step()
    {
        var (scheduler, sample, timestep, modelOutput) = prepared[next++];
        using var scope = NewDisposeScope();
        scheduler.Step(modelOutput, timestep, sample, generator: generator);
    }

    /// <summary>One elementwise op on the same latent: <c>sample + model_output</c>.</summary>
    [Benchmark(Baseline = true)]
    public void Add()
    {
        using var scope = NewDisposeScope();
        _ = initialSample + modelOutputs[0];
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var t in modelOutputs) t.Dispose();
        initialSample.Dispose();
        prepared = [];
    }
}
