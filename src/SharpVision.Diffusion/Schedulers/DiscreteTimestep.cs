namespace SharpVision.Diffusion.Schedulers;

/// <summary>
/// Timesteps of the schedulers that index alpha-bar by training timestep (PNDM, LCM): the contract passes them as
/// doubles (and sampling loops as float tensors of a schedule's entries), which must hold whole numbers in 0..T-1.
/// </summary>
internal static class DiscreteTimestep
{
    /// <summary>The training timestep a contract timestep names.</summary>
    /// <exception cref="ArgumentException">Not a whole number.</exception>
    /// <exception cref="ArgumentOutOfRangeException">Outside 0..T-1.</exception>
    public static long Require(double timestep, int numTrainTimesteps, string paramName)
    {
        if (timestep != Math.Floor(timestep))
            throw new ArgumentException($"{paramName} must be a whole training timestep; got {timestep}", paramName);
        NoiseSchedule.RequireTrainTimestep((long)Math.Clamp(timestep, -1, numTrainTimesteps), numTrainTimesteps, paramName);
        return (long)timestep;
    }

    /// <summary>(B) timesteps as int64 indices: integer tensors as they are, floating ones when every entry is whole.</summary>
    /// <exception cref="ArgumentException">A floating entry with a fractional part.</exception>
    public static Tensor AsIndices(Tensor timesteps, string paramName)
    {
        ArgumentNullException.ThrowIfNull(timesteps, paramName);
        if (!timesteps.is_floating_point()) return timesteps;
        using var fractional = timesteps.frac().ne(0).any();
        if (fractional.item<bool>())
            throw new ArgumentException($"{paramName} must hold whole training timesteps; got fractional values", paramName);
        return timesteps.to(ScalarType.Int64);
    }
}
