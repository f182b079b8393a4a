using Flame.ExecutorManager.Hosting;

return await ExecutorManagerApp.RunAsync(args);
