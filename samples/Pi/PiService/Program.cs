using Flame.Samples.Pi;
using Flame.Service;

return await FlameServiceHost.RunAsync(new PiService(), args);
