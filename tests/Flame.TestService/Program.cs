using Flame.TestService;
using Flame.Service;

return await FlameServiceHost.RunAsync(new TestService(), args);
