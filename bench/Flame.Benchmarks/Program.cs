using Flame.Benchmarks;

return await BenchmarkCommand.RunAsync(args);
