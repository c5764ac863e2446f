namespace SharpVision.Diffusion.Schedulers;

/// <summary>
/// Latent consistency model sampling (Luo, Tan, Huang, Li and Zhao 2023, https://arxiv.org/abs/2310.04378): the model
/// maps x_t straight to an estimate of x_0 through the consistency boundary condition, and multistep sampling
/// re-noises that estimate to the next timestep of a schedule taken from the distillation's skipping-step grid.
/// Follows diffusers 0.40 <c>schedulers/scheduling_lcm.py</c> (LCMScheduler).
/// </summary>
/// <remarks>
/// Typical loop: <c>SetTimesteps(4)</c>, then for each <c>t</c> in <see cref="Timesteps"/>:
/// <c>x = Step(unet(x, t), t, x).PrevSample</c>; the last step returns the denoised sample itself.
/// The scheduler keeps no tensors between calls, only the step index.
/// </remarks>
public sealed class LCMScheduler : IDiffusionScheduler
{
    /// <summary>sigma_data of the consistency parameterisation (Song et al. 2023, appendix C), fixed at 0.5 as in diffusers.</summary>
    public const float SigmaData = 0.5f;

    readonly float[] alphasCumprod;
    long[] timesteps;
    int? stepIndex, beginIndex;

    /// <summary>The configuration this scheduler was built from.</summary>
    public LCMSchedulerConfig Config { get; }
    SchedulerConfig IDiffusionScheduler.Config => Config;

    /// <inheritdoc/>
    public int Order => 1;

    /// <summary>Standard deviation of the initial noise: 1.</summary>
    public double InitNoiseSigma => 1.0;

    /// <summary>alpha_bar used after the last step: 1 with set_alpha_to_one, else alpha_bar_0 (float32, as diffusers).</summary>
    public float FinalAlphaCumprod { get; }

    /// <inheritdoc/>
    public int? NumInferenceSteps { get; private set; }

    /// <summary>Whether the schedule was given explicitly (diffusers' <c>custom_timesteps</c>).</summary>
    public bool CustomTimesteps { get; private set; }

    /// <summary>The index in <see cref="Timesteps"/> of the next step; null until the first step of a loop.</summary>
    public int? StepIndex => stepIndex;

    /// <summary>The timesteps of the loop, descending; all T training timesteps before <see cref="SetTimesteps(int)"/>.</summary>
    public IReadOnlyList<double> Timesteps { get; private set; }

    /// <summary>(T) float32 alpha_bar_t = prod_{s &lt;= t} (1 - beta_s), as diffusers computes it.</summary>
    public Tensor AlphasCumprod => torch.tensor(alphasCumprod);

    /// <exception cref="ArgumentException">An option value is not defined, or trained_betas has the wrong length.</exception>
    /// <exception cref="ArgumentOutOfRangeException">num_train_timesteps or original_inference_steps is not positive.</exception>
    public LCMScheduler(LCMSchedulerConfig? config = null)
    {
        Config = config ?? new LCMSchedulerConfig();
        var betas = NoiseSchedule.ConfigBetas(Config, Config.TimestepSpacing, Config.RescaleBetasZeroSnr);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Config.OriginalInferenceSteps, "original_inference_steps");
        alphasCumprod = NoiseSchedule.AlphasCumprod(betas);
        FinalAlphaCumprod = Config.SetAlphaToOne ? 1f : alphasCumprod[0];
        timesteps = Enumerable.Range(0, Config.NumTrainTimesteps).Reverse().Select(t => (long)t).ToArray();
        Timesteps = Array.ConvertAll(timesteps, t => (double)t);
    }

    /// <summary>Builds a scheduler from a diffusers scheduler_config.json, or a folder holding one.</summary>
    public static LCMScheduler FromConfigFile(string path) => new(LCMSchedulerConfig.Load(path));

    /// <summary>The standard LCM schedule of <paramref name="numInferenceSteps"/> steps from config's original_inference_steps.</summary>
    /// <exception cref="ArgumentOutOfRangeException">See <see cref="SetTimesteps(int, int?, double)"/>.</exception>
    public void SetTimesteps(int numInferenceSteps) => SetTimesteps(numInferenceSteps, null);

    /// <summary>
    /// The LCM schedule: the distillation grid k·i - 1 (k = T / original steps, i = 1..original·strength), descending,
    /// sampled at the evenly spaced indices floor(j · len / N), j = 0..N-1. Resets the step index.
    /// </summary>
    /// <param name="numInferenceSteps">N, at most the grid's length.</param>
    /// <param name="originalInferenceSteps">The distillation's step count; config's original_inference_steps when null.</param>
    /// <param name="strength">The fraction of the grid kept (image-to-image), in (0, 1].</param>
    /// <exception cref="ArgumentOutOfRangeException">N not positive, above T or above the grid's length; original steps above T; strength outside (0, 1].</exception>
    public void SetTimesteps(int numInferenceSteps, int? originalInferenceSteps, double strength = 1.0)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(numInferenceSteps);
        var grid = DistillationGrid(originalInferenceSteps, strength, out int originalSteps);
        if (numInferenceSteps > Config.NumTrainTimesteps)
            throw new ArgumentOutOfRangeException(nameof(numInferenceSteps), numInferenceSteps,
                $"num_inference_steps must be at most num_train_timesteps ({Config.NumTrainTimesteps}); got {numInferenceSteps}");
        // diffusers also rejects N above the original steps, which the grid's length (at most the original steps) already covers.
        if (grid.Length < numInferenceSteps)
            throw new ArgumentOutOfRangeException(nameof(numInferenceSteps), numInferenceSteps,
                $"num_inference_steps {numInferenceSteps} is more than the distillation grid's {grid.Length} timesteps (original_inference_steps x strength = {originalSteps} x {strength}); use fewer steps or a higher strength");

        Array.Reverse(grid);
        // numpy's linspace(0, len, N, endpoint=False): j * (len / N), floored.
        double spacing = (double)grid.Length / numInferenceSteps;
        Use(Enumerable.Range(0, numInferenceSteps).Select(j => grid[(long)Math.Floor(j * spacing)]).ToArray(), numInferenceSteps, custom: false);
    }

    /// <summary>
    /// An explicit, strictly descending schedule (diffusers' <c>timesteps=</c>); with <paramref name="strength"/> &lt; 1
    /// only its last int(N · strength) entries are kept. diffusers' warnings (a first timestep other than T - 1,
    /// timesteps off the distillation grid, more than the original steps) are not errors here either.
    /// </summary>
    /// <exception cref="ArgumentException">Empty, not strictly descending, negative, or starting at or above T.</exception>
    /// <exception cref="ArgumentOutOfRangeException">original steps above T; strength outside (0, 1].</exception>
    public void SetTimesteps(IReadOnlyList<long> customTimesteps, int? originalInferenceSteps = null, double strength = 1.0)
    {
        ArgumentNullException.ThrowIfNull(customTimesteps);
        DistillationGrid(originalInferenceSteps, strength, out _);
        if (customTimesteps.Count == 0)
            throw new ArgumentException("customTimesteps must not be empty", nameof(customTimesteps));
        for (int i = 1; i < customTimesteps.Count; i++)
            if (customTimesteps[i] >= customTimesteps[i - 1])
                throw new ArgumentException($"customTimesteps must be in descending order; entry {i} ({customTimesteps[i]}) follows {customTimesteps[i - 1]}", nameof(customTimesteps));
        if (customTimesteps[0] >= Config.NumTrainTimesteps || customTimesteps[^1] < 0)
            throw new ArgumentException($"customTimesteps must lie in 0..{Config.NumTrainTimesteps - 1}; got {customTimesteps[0]} down to {customTimesteps[^1]}", nameof(customTimesteps));

        int n = customTimesteps.Count;
        int start = Math.Max(n - Math.Min((int)(n * strength), n), 0);
        Use(customTimesteps.Skip(start * Order).ToArray(), n, custom: true);
    }

    /// <summary>Installs a schedule and clears the step and begin indices.</summary>
    void Use(long[] schedule, int numInferenceSteps, bool custom)
    {
        timesteps = schedule;
        Timesteps = Array.ConvertAll(schedule, t => (double)t);
        NumInferenceSteps = numInferenceSteps;
        CustomTimesteps = custom;
        stepIndex = beginIndex = null;
    }

    /// <summary>The distillation timesteps k·i - 1, i = 1..int(original · strength), ascending.</summary>
    long[] DistillationGrid(int? originalInferenceSteps, double strength, out int originalSteps)
    {
        originalSteps = originalInferenceSteps ?? Config.OriginalInferenceSteps;
        if (originalSteps <= 0 || originalSteps > Config.NumTrainTimesteps)
            throw new ArgumentOutOfRangeException(nameof(originalInferenceSteps), originalSteps,
                $"original_inference_steps must be in 1..num_train_timesteps ({Config.NumTrainTimesteps}); got {originalSteps}");
        if (!(strength > 0 && strength <= 1))
            throw new ArgumentOutOfRangeException(nameof(strength), strength, $"strength must be in (0, 1]; got {strength}");
        long k = Config.NumTrainTimesteps / originalSteps;
        return Enumerable.Range(1, (int)(originalSteps * strength)).Select(i => i * k - 1).ToArray();
    }

    /// <summary>Starts the next loop at entry <paramref name="beginIndex"/> of <see cref="Timesteps"/> (image-to-image).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Negative.</exception>
    public void SetBeginIndex(int beginIndex)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(beginIndex);
        this.beginIndex = beginIndex;
    }

    /// <summary>LCM needs no input scaling; returns <paramref name="sample"/>.</summary>
    public Tensor ScaleModelInput(Tensor sample, double timestep) => sample;

    /// <summary>
    /// The consistency boundary-condition scalings (paper eq. 3 with sigma_data = 0.5, time scaled by timestep_scaling):
    /// c_skip = sigma_data^2 / ((s t)^2 + sigma_data^2), c_out = s t / sqrt((s t)^2 + sigma_data^2), in float32 as
    /// diffusers computes them from a timestep tensor; c_skip(0) = 1 and c_out(0) = 0 make f(x, 0) = x.
    /// </summary>
    public (float CSkip, float COut) BoundaryConditionScalings(long timestep)
    {
        float scaled = timestep * (float)Config.TimestepScaling;
        float denominator = scaled * scaled + SigmaData * SigmaData;
        return (SigmaData * SigmaData / denominator, scaled / MathF.Sqrt(denominator));
    }

    /// <summary>
    /// One LCM step (paper Algorithm 3): predict x_0 from the model output, apply the boundary condition
    /// f(x_t, t) = c_skip x_t + c_out x_0, then, except on the schedule's last step, re-noise it to the next timestep:
    /// x_{t'} = sqrt(alpha_bar_{t'}) f + sqrt(1 - alpha_bar_{t'}) z.
    /// </summary>
    /// <param name="modelOutput">(B, C, H, W) the model's prediction at <paramref name="timestep"/> (noise, x_0 or v by prediction_type).</param>
    /// <param name="timestep">t, an entry of <see cref="Timesteps"/>.</param>
    /// <param name="sample">(B, C, H, W) x_t.</param>
    /// <param name="noise">(B, C, H, W) z, standard normal; drawn when null. Not used on the last step.</param>
    /// <param name="generator">Source of the drawn noise when <paramref name="noise"/> is null.</param>
    /// <returns>The next sample, and the denoised f(x_t, t) as <see cref="SchedulerOutput.PredOriginalSample"/> (diffusers' <c>denoised</c>).</returns>
    /// <exception cref="InvalidOperationException"><see cref="SetTimesteps(int)"/> has not been called.</exception>
    /// <exception cref="ArgumentException">Shapes differ, both noise and generator given, or the first step's timestep is not in the schedule.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The timestep is outside 0..T-1.</exception>
    public SchedulerOutput Step(Tensor modelOutput, double timestep, Tensor sample, Tensor? noise = null, Generator? generator = null)
    {
        if (NumInferenceSteps is null)
            throw new InvalidOperationException("LCMScheduler: call SetTimesteps(numInferenceSteps) before stepping");
        NoiseSchedule.RequireSameShape(sample, modelOutput, nameof(sample), nameof(modelOutput));
        if (noise is not null && generator is not null)
            throw new ArgumentException("pass either noise or generator, not both", nameof(noise));
        if (noise is not null) NoiseSchedule.RequireSameShape(modelOutput, noise, nameof(modelOutput), nameof(noise));
        long t = DiscreteTimestep.Require(timestep, Config.NumTrainTimesteps, nameof(timestep));
        stepIndex ??= beginIndex ?? IndexForTimestep(t);

        using var scope = torch.NewDisposeScope();

        // 1. The next timestep of the schedule (the current one on the last step, where no noise is added).
        int prevIndex = stepIndex.Value + 1;
        long prevTimestep = prevIndex < timesteps.Length ? timesteps[prevIndex] : t;

        // 2. alpha_bar_t and alpha_bar_{t'} as float32 scalars, as diffusers' 0-dim tensors.
        float alphaProdT = alphasCumprod[t];
        float alphaProdTPrev = prevTimestep >= 0 ? alphasCumprod[prevTimestep] : FinalAlphaCumprod;
        float sqrtAlphaProdT = MathF.Sqrt(alphaProdT), sqrtBetaProdT = MathF.Sqrt(1f - alphaProdT);

        // 3. The boundary-condition scalings.
        var (cSkip, cOut) = BoundaryConditionScalings(t);

        // 4. Predicted x_0 from whatever the model predicts.
        var predOriginalSample = Config.PredictionType switch
        {
            PredictionType.Epsilon => (sample - sqrtBetaProdT * modelOutput) / sqrtAlphaProdT,
            PredictionType.Sample => modelOutput,
            _ => sqrtAlphaProdT * sample - sqrtBetaProdT * modelOutput,
        };

        // 5. Keep x_0 in range: dynamic thresholding, else plain clipping.
        if (Config.Thresholding)
            predOriginalSample = NoiseSchedule.Threshold(predOriginalSample, Config.DynamicThresholdingRatio, Config.SampleMaxValue);
        else if (Config.ClipSample)
            predOriginalSample = predOriginalSample.clamp(-Config.ClipSampleRange, Config.ClipSampleRange);

        // 6. The consistency function's output f(x_t, t).
        var denoised = cOut * predOriginalSample + cSkip * sample;

        // 7. Multistep sampling re-noises f to t'; the schedule's last step (and so one-step sampling) returns f.
        var prevSample = denoised;
        if (stepIndex.Value != NumInferenceSteps.Value - 1)
        {
            var z = noise ?? torch.randn(modelOutput.shape, dtype: denoised.dtype, device: modelOutput.device, generator: generator);
            prevSample = MathF.Sqrt(alphaProdTPrev) * denoised + MathF.Sqrt(1f - alphaProdTPrev) * z;
        }

        stepIndex++;
        var escapedDenoised = denoised.MoveToOuterDisposeScope();
        return new SchedulerOutput(ReferenceEquals(prevSample, denoised) ? escapedDenoised : prevSample.MoveToOuterDisposeScope(), escapedDenoised);
    }

    /// <summary>diffusers' <c>index_for_timestep</c>: the second match when the timestep occurs more than once, else the first.</summary>
    int IndexForTimestep(long timestep)
    {
        var matches = Enumerable.Range(0, timesteps.Length).Where(i => timesteps[i] == timestep).Take(2).ToList();
        if (matches.Count == 0)
            throw new ArgumentException($"timestep {timestep} is not in the schedule ({string.Join(", ", timesteps.Take(8))}{(timesteps.Length > 8 ? ", ..." : "")})", nameof(timestep));
        return matches[^1];
    }

    /// <summary>The forward process q(x_t | x_0): sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) noise (training, img2img).</summary>
    /// <param name="originalSamples">(B, C, H, W) x_0.</param>
    /// <param name="noise">(B, C, H, W) standard normal noise.</param>
    /// <param name="timesteps">(B) or (1) timesteps in 0..T-1 (integer, or floating with whole values).</param>
    /// <returns>(B, C, H, W) x_t, in the samples' dtype.</returns>
    public Tensor AddNoise(Tensor originalSamples, Tensor noise, Tensor timesteps) =>
        NoiseSchedule.AddNoise(alphasCumprod, originalSamples, noise, DiscreteTimestep.AsIndices(timesteps, nameof(timesteps)));

    /// <summary>The v-prediction target sqrt(alpha_bar_t) noise - sqrt(1 - alpha_bar_t) x_0.</summary>
    /// <param name="sample">(B, C, H, W) x_0.</param>
    /// <param name="noise">(B, C, H, W) the noise added to it.</param>
    /// <param name="timesteps">(B) or (1) timesteps in 0..T-1 (integer, or floating with whole values).</param>
    public Tensor GetVelocity(Tensor sample, Tensor noise, Tensor timesteps) =>
        NoiseSchedule.GetVelocity(alphasCumprod, sample, noise, DiscreteTimestep.AsIndices(timesteps, nameof(timesteps)));
}
