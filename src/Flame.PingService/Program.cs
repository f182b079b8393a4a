using Flame.Service;

return await FlameServiceHost.RunAsync(new Flame.PingService.PingService(), args);
