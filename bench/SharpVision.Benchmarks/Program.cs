using BenchmarkDotNet.Running;

// Run one area with e.g. `dotnet run -c Release --project bench/SharpVision.Benchmarks -- --filter '*Norm*' --job short`.
// Benchmarks run in-process: the project BenchmarkDotNet would generate and build for a child process does not
// get the build step that makes libLibTorchSharp.so load on Debian 12 (build/TorchSharpGlibcxx.targets).
if (!args.Contains("--inProcess", StringComparer.OrdinalIgnoreCase)) args = [.. args, "--inProcess"];
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
