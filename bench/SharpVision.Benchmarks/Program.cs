using BenchmarkDotNet.Running;

// Run one area with e.g. `dotnet run -c Release --project bench/SharpVision.Benchmarks -- --filter '*Norm*'`.
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
