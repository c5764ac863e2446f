// libtorch state is process-wide (the default generator behind torch.manual_seed, thread counts, default
// dtype), so test classes run one after another: a seeded test must not see another test's draws.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
