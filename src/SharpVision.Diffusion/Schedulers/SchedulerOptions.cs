using System.Text.Json;
using System.Text.Json.Serialization;

namespace SharpVision.Diffusion.Schedulers;

/// <summary>How betas are laid out over the training timesteps (diffusers' <c>beta_schedule</c>).</summary>
[JsonConverter(typeof(SchedulerOptionConverter<BetaSchedule>))]
public enum BetaSchedule
{
    /// <summary><c>linear</c>: betas evenly spaced from beta_start to beta_end (Ho et al. 2020).</summary>
    Linear,
    /// <summary><c>scaled_linear</c>: square roots evenly spaced, then squared (latent diffusion / Stable Diffusion).</summary>
    ScaledLinear,
    /// <summary><c>squaredcos_cap_v2</c>: the cosine alpha-bar of Nichol and Dhariwal 2021, betas capped at 0.999.</summary>
    SquaredcosCapV2,
    /// <summary><c>exp</c>: alpha-bar(t) = exp(-12 t), betas capped at 0.999 (HeunDiscreteScheduler only, as in diffusers).</summary>
    Exp,
}

/// <summary>What the model predicts (diffusers' <c>prediction_type</c>).</summary>
[JsonConverter(typeof(SchedulerOptionConverter<PredictionType>))]
public enum PredictionType
{
    /// <summary><c>epsilon</c>: the added noise.</summary>
    Epsilon,
    /// <summary><c>sample</c>: the clean sample x_0.</summary>
    Sample,
    /// <summary><c>v_prediction</c>: v = sqrt(alpha_bar) * noise - sqrt(1 - alpha_bar) * x_0 (Salimans and Ho 2022).</summary>
    VPrediction,
}

/// <summary>How inference timesteps are picked from the training ones (diffusers' <c>timestep_spacing</c>; Lin et al. 2023, table 2).</summary>
[JsonConverter(typeof(SchedulerOptionConverter<TimestepSpacing>))]
public enum TimestepSpacing
{
    /// <summary><c>leading</c>: multiples of T // N from 0, plus steps_offset.</summary>
    Leading,
    /// <summary><c>trailing</c>: T - 1 downward in steps of T / N, rounded.</summary>
    Trailing,
    /// <summary><c>linspace</c>: N values from 0 to T - 1 evenly spaced, rounded.</summary>
    Linspace,
}

/// <summary>How the sigma-space Euler scheduler interpolates its inference sigmas (diffusers' <c>interpolation_type</c>).</summary>
[JsonConverter(typeof(SchedulerOptionConverter<InterpolationType>))]
public enum InterpolationType
{
    /// <summary><c>linear</c>: sigma interpolated linearly in t between the training sigmas.</summary>
    Linear,
    /// <summary><c>log_linear</c>: N + 1 sigmas evenly spaced in log sigma from the largest training sigma to the smallest.</summary>
    LogLinear,
}

/// <summary>What the model is given as its timestep input (diffusers' <c>timestep_type</c>).</summary>
[JsonConverter(typeof(SchedulerOptionConverter<TimestepType>))]
public enum TimestepType
{
    /// <summary><c>discrete</c>: the (fractional) training timestep t.</summary>
    Discrete,
    /// <summary><c>continuous</c>: with v-prediction, 0.25 log sigma (the EDM preconditioning, Karras et al. 2022, table 1).</summary>
    Continuous,
}

/// <summary>The noise level after the last step (diffusers' <c>final_sigmas_type</c>).</summary>
[JsonConverter(typeof(SchedulerOptionConverter<FinalSigmasType>))]
public enum FinalSigmasType
{
    /// <summary><c>zero</c>: the loop ends at sigma = 0, a clean sample.</summary>
    Zero,
    /// <summary><c>sigma_min</c>: the loop ends at the smallest training sigma, sqrt((1 - alpha_bar_0) / alpha_bar_0).</summary>
    SigmaMin,
}

/// <summary>The variance of DDPM's reverse step (diffusers' <c>variance_type</c>).</summary>
[JsonConverter(typeof(SchedulerOptionConverter<DDPMVarianceType>))]
public enum DDPMVarianceType
{
    /// <summary><c>fixed_small</c>: the posterior variance beta~_t (Ho et al. 2020, sigma^2 = beta~_t).</summary>
    FixedSmall,
    /// <summary><c>fixed_small_log</c>: the same variance computed through its log.</summary>
    FixedSmallLog,
    /// <summary><c>fixed_large</c>: beta_t (Ho et al. 2020, sigma^2 = beta_t).</summary>
    FixedLarge,
    /// <summary><c>fixed_large_log</c>: log beta_t.</summary>
    FixedLargeLog,
    /// <summary><c>learned</c>: the model's second half of channels is the variance.</summary>
    Learned,
    /// <summary><c>learned_range</c>: the model interpolates between the two log variances (Nichol and Dhariwal 2021, eq. 15).</summary>
    LearnedRange,
}

/// <summary>Which DPM-Solver variant integrates the diffusion ODE or SDE (diffusers' <c>algorithm_type</c>; Lu et al. 2022).</summary>
[JsonConverter(typeof(SchedulerOptionConverter<DPMSolverAlgorithmType>))]
public enum DPMSolverAlgorithmType
{
    /// <summary><c>dpmsolver</c>: DPM-Solver on the noise prediction (https://arxiv.org/abs/2206.00927).</summary>
    DPMSolver,
    /// <summary><c>dpmsolver++</c>: DPM-Solver++ on the data (x_0) prediction (https://arxiv.org/abs/2211.01095).</summary>
    DPMSolverPlusPlus,
    /// <summary><c>sde-dpmsolver</c>: the SDE variant of DPM-Solver (adds noise each step).</summary>
    SdeDPMSolver,
    /// <summary><c>sde-dpmsolver++</c>: the SDE variant of DPM-Solver++ (adds noise each step).</summary>
    SdeDPMSolverPlusPlus,
}

/// <summary>How second-order DPM-Solver combines the two model outputs (diffusers' <c>solver_type</c>).</summary>
[JsonConverter(typeof(SchedulerOptionConverter<DPMSolverType>))]
public enum DPMSolverType
{
    /// <summary><c>midpoint</c>: the midpoint rule of the DPM-Solver++ paper (weight 1/2 on the difference term).</summary>
    Midpoint,
    /// <summary><c>heun</c>: the Heun-like weighting (phi_2 on the difference term).</summary>
    Heun,
}

/// <summary>UniPC's B(h) function (diffusers' <c>solver_type</c>; Zhao et al. 2023, https://arxiv.org/abs/2302.04867, section 3.3).</summary>
[JsonConverter(typeof(SchedulerOptionConverter<UniPCSolverType>))]
public enum UniPCSolverType
{
    /// <summary><c>bh1</c>: B(h) = h, recommended below 10 steps.</summary>
    Bh1,
    /// <summary><c>bh2</c>: B(h) = e^h - 1.</summary>
    Bh2,
}

/// <summary>DEIS's integrator (diffusers' <c>algorithm_type</c>; only <c>deis</c>).</summary>
[JsonConverter(typeof(SchedulerOptionConverter<DEISAlgorithmType>))]
public enum DEISAlgorithmType
{
    /// <summary><c>deis</c>: the exponential integrator on the noise prediction (Zhang and Chen 2022, https://arxiv.org/abs/2204.13902).</summary>
    Deis,
}

/// <summary>DEIS's polynomial extrapolation variable (diffusers' <c>solver_type</c>; only <c>logrho</c>).</summary>
[JsonConverter(typeof(SchedulerOptionConverter<DEISSolverType>))]
public enum DEISSolverType
{
    /// <summary><c>logrho</c>: Lagrange polynomials in log rho, rho = sigma / alpha.</summary>
    Logrho,
}

/// <summary>The flow-matching time shift used with dynamic shifting (diffusers' <c>time_shift_type</c>).</summary>
[JsonConverter(typeof(SchedulerOptionConverter<TimeShiftType>))]
public enum TimeShiftType
{
    /// <summary><c>exponential</c>: e^mu / (e^mu + (1/t - 1)^sigma).</summary>
    Exponential,
    /// <summary><c>linear</c>: mu / (mu + (1/t - 1)^sigma).</summary>
    Linear,
}

/// <summary>
/// The exact strings diffusers uses for the scheduler options, and the parsing that rejects anything else
/// with a message listing the allowed values.
/// </summary>
public static class SchedulerOptions
{
    static readonly Dictionary<Type, (string Key, string[] Names)> Table = new()
    {
        [typeof(BetaSchedule)] = ("beta_schedule", ["linear", "scaled_linear", "squaredcos_cap_v2", "exp"]),
        [typeof(PredictionType)] = ("prediction_type", ["epsilon", "sample", "v_prediction"]),
        [typeof(TimestepSpacing)] = ("timestep_spacing", ["leading", "trailing", "linspace"]),
        [typeof(InterpolationType)] = ("interpolation_type", ["linear", "log_linear"]),
        [typeof(TimestepType)] = ("timestep_type", ["discrete", "continuous"]),
        [typeof(FinalSigmasType)] = ("final_sigmas_type", ["zero", "sigma_min"]),
        [typeof(DDPMVarianceType)] = ("variance_type", ["fixed_small", "fixed_small_log", "fixed_large", "fixed_large_log", "learned", "learned_range"]),
        [typeof(DPMSolverAlgorithmType)] = ("algorithm_type", ["dpmsolver", "dpmsolver++", "sde-dpmsolver", "sde-dpmsolver++"]),
        [typeof(DPMSolverType)] = ("solver_type", ["midpoint", "heun"]),
        [typeof(UniPCSolverType)] = ("solver_type", ["bh1", "bh2"]),
        [typeof(DEISAlgorithmType)] = ("algorithm_type", ["deis"]),
        [typeof(DEISSolverType)] = ("solver_type", ["logrho"]),
        [typeof(TimeShiftType)] = ("time_shift_type", ["exponential", "linear"]),
    };

    /// <summary>The config key of an option type, e.g. <c>beta_schedule</c>.</summary>
    public static string KeyOf<T>() where T : struct, Enum => Table[typeof(T)].Key;

    /// <summary>The allowed strings of an option type, in declaration order.</summary>
    public static IReadOnlyList<string> AllowedValues<T>() where T : struct, Enum => Table[typeof(T)].Names;

    /// <summary>The diffusers string of an option, e.g. <c>v_prediction</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not a defined member.</exception>
    public static string ToConfigString<T>(T value) where T : struct, Enum
    {
        var (key, names) = Table[typeof(T)];
        int i = Convert.ToInt32(value, System.Globalization.CultureInfo.InvariantCulture);
        if (!Enum.IsDefined(value) || i < 0 || i >= names.Length)
            throw new ArgumentOutOfRangeException(key, value, $"{key} {value} is not one of: {string.Join(", ", names)}");
        return names[i];
    }

    /// <summary>Parses a diffusers string exactly (case-sensitive, as diffusers compares them).</summary>
    /// <exception cref="ArgumentException">Unknown string; the message names the key and lists the allowed values.</exception>
    public static T Parse<T>(string? text) where T : struct, Enum
    {
        var (key, names) = Table[typeof(T)];
        int i = text is null ? -1 : Array.IndexOf(names, text);
        if (i < 0)
            throw new ArgumentException($"{key} '{text}' is not supported; expected one of: {string.Join(", ", names)}", key);
        return (T)Enum.ToObject(typeof(T), i);
    }

    /// <summary>Throws unless <paramref name="value"/> is a defined member (guards casts like <c>(BetaSchedule)7</c>).</summary>
    /// <exception cref="ArgumentException">Undefined value; the message lists the allowed values.</exception>
    internal static void RequireDefined<T>(T value) where T : struct, Enum
    {
        if (!Enum.IsDefined(value))
        {
            var (key, names) = Table[typeof(T)];
            throw new ArgumentException($"{key} {value} is not supported; expected one of: {string.Join(", ", names)}", key);
        }
    }
}

/// <summary>Reads and writes a scheduler option as its exact diffusers string.</summary>
public sealed class SchedulerOptionConverter<T> : JsonConverter<T> where T : struct, Enum
{
    /// <inheritdoc/>
    public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String)
            throw new ArgumentException(
                $"{SchedulerOptions.KeyOf<T>()} must be a string, one of: {string.Join(", ", SchedulerOptions.AllowedValues<T>())}; got {reader.TokenType}",
                SchedulerOptions.KeyOf<T>());
        return SchedulerOptions.Parse<T>(reader.GetString());
    }

    /// <inheritdoc/>
    public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options) =>
        writer.WriteStringValue(SchedulerOptions.ToConfigString(value));
}
