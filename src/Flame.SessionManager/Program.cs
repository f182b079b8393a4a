using Flame.SessionManager.Hosting;

return await SessionManagerApp.RunAsync(args);
