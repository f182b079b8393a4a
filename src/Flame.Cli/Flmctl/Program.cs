return await Flame.Cli.Control.Flmctl.RunAsync(args, Console.Out, Console.Error);
