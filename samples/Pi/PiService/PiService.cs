using System.Globalization;
using System.Text;
using Flame.Service;

namespace Flame.Samples.Pi;

/// <summary>
/// Monte Carlo π: a task's input is a number of samples (decimal UTF-8); its output is how many of those
/// uniformly random points of the unit square fell inside the quarter circle (decimal UTF-8).
/// The client sums the hits: π ≈ 4 × hits / samples.
/// </summary>
internal sealed class PiService : FlameService
{
    public override Task<byte[]?> OnTaskInvokeAsync(TaskContext context, CancellationToken cancellationToken)
    {
        var text = context.Input is null ? "" : Encoding.UTF8.GetString(context.Input);
        if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var samples))
            throw new FlameTaskException($"the input must be a number of samples (a non-negative decimal integer), not '{text}'");

        var hits = CountHits(samples, cancellationToken);
        return Task.FromResult<byte[]?>(Encoding.UTF8.GetBytes(hits.ToString(CultureInfo.InvariantCulture)));
    }

    internal static long CountHits(long samples, CancellationToken cancellationToken)
    {
        // An unseeded Random is xoshiro256** underneath: fast, and each task gets its own stream.
        var random = new Random();
        long hits = 0;
        for (long i = 0; i < samples; i++)
        {
            if ((i & 0xFFFFF) == 0)
                cancellationToken.ThrowIfCancellationRequested();
            var x = random.NextDouble();
            var y = random.NextDouble();
            if (x * x + y * y <= 1.0)
                hits++;
        }
        return hits;
    }
}
