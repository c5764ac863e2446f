namespace SharpVision.Diffusion.Schedulers;

/// <summary>The result of one scheduler step.</summary>
/// <param name="PrevSample">(B, C, H, W) the sample at the next timestep of the loop.</param>
/// <param name="PredOriginalSample">(B, C, H, W) the predicted clean sample x_0, where the scheduler computes one.</param>
public sealed record SchedulerOutput(Tensor PrevSample, Tensor? PredOriginalSample = null);

/// <summary>
/// What every scheduler offers a sampling loop, as diffusers' <c>SchedulerMixin</c> does: the loop calls
/// <see cref="SetTimesteps"/>, draws noise scaled by <see cref="InitNoiseSigma"/>, then for each entry <c>t</c> of
/// <see cref="Timesteps"/> runs the model on <see cref="ScaleModelInput"/> and passes its output to <see cref="Step"/>.
/// A loop written against this contract runs every scheduler without knowing which it holds.
/// </summary>
/// <remarks>
/// Multistep schedulers keep the previous model outputs between steps; <see cref="SetTimesteps"/> resets them. The
/// step index starts at the first <see cref="Step"/> (found from its timestep, as diffusers' <c>_init_step_index</c>
/// does) or at <see cref="SetBeginIndex"/> (image-to-image, which starts part-way through the schedule).
/// </remarks>
public interface IDiffusionScheduler
{
    /// <summary>The configuration this scheduler was built from (its runtime type is the scheduler's own config record).</summary>
    SchedulerConfig Config { get; }

    /// <summary>Model evaluations per step of the solver: 1, or 2 for Heun and KDPM2 (diffusers' <c>order</c>).</summary>
    int Order { get; }

    /// <summary>Standard deviation of the initial noise (1, or sigma_max-derived for the sigma-space schedulers).</summary>
    double InitNoiseSigma { get; }

    /// <summary>The inference steps set by <see cref="SetTimesteps"/>; null before.</summary>
    int? NumInferenceSteps { get; }

    /// <summary>The timesteps the loop visits, in order (fractional for Heun, KDPM2 and continuous Euler); empty or all T before <see cref="SetTimesteps"/>.</summary>
    IReadOnlyList<double> Timesteps { get; }

    /// <summary>The noise levels sigma of the sigma-space schedulers (one more than the steps: the last is the final level); null for the others.</summary>
    IReadOnlyList<double>? Sigmas => null;

    /// <summary>Picks the timesteps of an <paramref name="numInferenceSteps"/>-step loop and resets the step state.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Not in 1..num_train_timesteps.</exception>
    void SetTimesteps(int numInferenceSteps);

    /// <summary>Starts the next loop at entry <paramref name="beginIndex"/> of <see cref="Timesteps"/> (image-to-image).</summary>
    void SetBeginIndex(int beginIndex);

    /// <summary>The model's input at <paramref name="timestep"/> (divided by sqrt(sigma^2 + 1) for sigma-space schedulers; unchanged for others).</summary>
    Tensor ScaleModelInput(Tensor sample, double timestep);

    /// <summary>One step of the solver from <paramref name="timestep"/> to the next entry of the loop.</summary>
    /// <param name="modelOutput">(B, C, H, W) the model's prediction (noise, x_0 or v by prediction_type).</param>
    /// <param name="timestep">The current entry of <see cref="Timesteps"/>.</param>
    /// <param name="sample">(B, C, H, W) the current sample.</param>
    /// <param name="noise">The noise a stochastic step adds (standard normal, the sample's shape; several draws concatenated along dim 0); drawn when null.</param>
    /// <param name="generator">Source of drawn noise when <paramref name="noise"/> is null.</param>
    SchedulerOutput Step(Tensor modelOutput, double timestep, Tensor sample, Tensor? noise = null, Generator? generator = null);

    /// <summary>The forward process at the given timesteps (training, image-to-image).</summary>
    /// <param name="originalSamples">(B, C, H, W) x_0.</param>
    /// <param name="noise">(B, C, H, W) standard normal noise.</param>
    /// <param name="timesteps">(B) or (1) timesteps (entries of <see cref="Timesteps"/> for the sigma-space schedulers).</param>
    Tensor AddNoise(Tensor originalSamples, Tensor noise, Tensor timesteps);
}
