using System.Globalization;

namespace Flame.Samples.Pi;

/// <summary>The command line of pi-client.</summary>
internal sealed record PiOptions
{
    public const string Usage = """
        Usage: pi-client [--endpoint URL]... [--tasks N] [--samples N] [--app NAME] [--timeout SECONDS]

        Estimates pi on a Flame cluster: runs N tasks of the pi application, each counting random points.

          --endpoint URL   the gateway (default: $FLAME_ENDPOINT, else http://127.0.0.1:8080); repeat it or give
                           URL,URL for several gateways: the client carries on through another when one dies
          --tasks N        number of tasks (default 100)
          --samples N      random points per task (default 1000000)
          --app NAME       the application to run; registered if absent (default pi)
          --timeout S      give up when the tasks are not all done after S seconds (default 600)
          -h, --help       show this help
        """;

    public string Endpoint { get; init; } = Environment.GetEnvironmentVariable("FLAME_ENDPOINT") is { Length: > 0 } endpoint
        ? endpoint
        : "http://127.0.0.1:8080";

    /// <summary>True once an --endpoint was given: a second one adds a gateway instead of replacing the default.</summary>
    public bool EndpointGiven { get; init; }

    public int Tasks { get; init; } = 100;

    public long Samples { get; init; } = 1_000_000;

    public string Application { get; init; } = "pi";

    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(10);

    public bool Help { get; init; }

    /// <summary>Parses <paramref name="args"/>; throws <see cref="FormatException"/> with a readable message on a bad one.</summary>
    public static PiOptions Parse(string[] args)
    {
        var options = new PiOptions();
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            string? inline = null;
            var eq = arg.IndexOf('=');
            if (arg.StartsWith("--", StringComparison.Ordinal) && eq > 0)
                (arg, inline) = (arg[..eq], arg[(eq + 1)..]);

            string Value() => inline ?? (++i < args.Length ? args[i] : throw new FormatException($"{arg} needs a value"));

            options = arg switch
            {
                "-h" or "--help" => options with { Help = true },
                "--endpoint" => options with { Endpoint = options.EndpointGiven ? $"{options.Endpoint},{Value()}" : Value(), EndpointGiven = true },
                "--tasks" => options with { Tasks = (int)Positive(arg, Value(), int.MaxValue) },
                "--samples" => options with { Samples = Positive(arg, Value(), long.MaxValue / int.MaxValue) },
                "--app" => options with { Application = Value() },
                "--timeout" => options with { Timeout = TimeSpan.FromSeconds(Positive(arg, Value(), int.MaxValue / 1000)) },
                _ => throw new FormatException($"unknown option '{args[i]}'"),
            };
        }
        return options;
    }

    private static long Positive(string name, string text, long max) =>
        long.TryParse(text, NumberStyles.AllowThousands, CultureInfo.InvariantCulture, out var value) && value > 0 && value <= max
            ? value
            : throw new FormatException($"{name} must be a whole number from 1 to {max}, not '{text}'");
}
