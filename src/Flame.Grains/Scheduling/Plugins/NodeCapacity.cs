namespace Flame.Grains.Scheduling.Plugins;

/// <summary>An amount of CPU (whole cores, as Flame), memory (bytes) and GPUs: what an executor holds, or what a node has free.</summary>
public readonly record struct Resources(long Cpu, long Memory, long Gpu)
{
    /// <summary>Memory of a node that does not report it: not a limit (there is nothing to account against).</summary>
    public const long Unlimited = long.MaxValue;

    /// <summary>One core: what an executor that asks for nothing holds (one slot, as before).</summary>
    public static readonly Resources OneCore = new(1, 0, 0);

    /// <summary>
    /// What an executor of <paramref name="req"/> holds: its memory and GPUs, and its cores, at least one. An executor
    /// manager runs one executor per slot of one core (its allocatable CPU is its slots), so an executor that asks for
    /// no CPU still takes a slot.
    /// </summary>
    public static Resources Of(ResourceRequirement? req) =>
        req is null ? OneCore : new(WholeCores(req.Cpu), Clamp(req.Memory), Math.Max(0, req.Gpu));

    /// <summary>
    /// What <paramref name="node"/> offers executors: its allocatable resources, CPU at least one core (a node that
    /// reports none still runs one executor, as before), memory <see cref="Unlimited"/> when it reports none.
    /// </summary>
    public static Resources Allocatable(NodeInfo node)
    {
        var a = node.Allocatable;
        return new(Math.Max(1, Clamp(a.Cpu)), a.Memory == 0 ? Unlimited : Clamp(a.Memory), Math.Max(0, a.Gpu));
    }

    /// <summary>Whether this much has room for <paramref name="other"/> in every resource.</summary>
    public bool Covers(Resources other) => Cpu >= other.Cpu && Memory >= other.Memory && Gpu >= other.Gpu;

    public static Resources operator +(Resources a, Resources b) => new(Add(a.Cpu, b.Cpu), Add(a.Memory, b.Memory), Add(a.Gpu, b.Gpu));

    public static Resources operator -(Resources a, Resources b) =>
        new(a.Cpu - b.Cpu, a.Memory == Unlimited ? Unlimited : a.Memory - b.Memory, a.Gpu - b.Gpu);

    public override string ToString() =>
        $"cpu {Cpu}, memory {(Memory == Unlimited ? "unlimited" : Memory + " B")}, gpu {Gpu}";

    // Bounded so that sums of many executors cannot overflow.
    private static long WholeCores(ulong cores) => Math.Max(1, (long)Math.Min(cores, long.MaxValue / 2));

    private static long Clamp(ulong value) => (long)Math.Min(value, long.MaxValue - 1);

    private static long Add(long a, long b) => a == Unlimited || b == Unlimited || (b > 0 && a > long.MaxValue - 1 - b) ? Unlimited : a + b;
}

/// <summary>
/// Node capacity accounting: what each Ready node has free (allocatable minus what its executors hold), and where a
/// new executor goes: the node that is least used in its scarcest resource, among those with room for it that run
/// its shim (<see cref="ShimMatch"/>). An executor is never placed where it does not fit, so a plan never
/// over-commits a node.
/// </summary>
public sealed class NodeCapacity
{
    private readonly Dictionary<string, Slot> _nodes = new(StringComparer.Ordinal);
    // Most free first; the order is by a score fixed at insertion, so a node is removed and re-added when it changes.
    private readonly SortedSet<Slot> _byFree = new(Slot.MostFreeFirst);
    // Shapes (with their shim) that found no node: free room only shrinks during a pass, so anything at least as big
    // fails too.
    private readonly List<(Resources Req, int Shim)> _failed = [];

    /// <summary>The free resources of the Ready nodes of <paramref name="nodes"/>, given <paramref name="executors"/>.</summary>
    public NodeCapacity(IEnumerable<NodeInfo> nodes, IEnumerable<ExecutorInfo> executors)
    {
        foreach (var node in nodes)
            if (node.State == NodeState.Ready)
            {
                var allocatable = Resources.Allocatable(node);
                _nodes[node.Name] = new Slot(node.Name, allocatable, allocatable, ShimMatch.MaskOf(node));
            }
        foreach (var e in executors)
            if (e.State != ExecutorState.Released && _nodes.TryGetValue(e.Node, out var slot))
                slot.Free -= Resources.Of(e.ResReq);
        foreach (var slot in _nodes.Values)
            _byFree.Add(slot.Rescore());
    }

    /// <summary>The sum of the Ready nodes' allocatable resources.</summary>
    public Resources Total => _nodes.Values.Aggregate(default(Resources), (sum, s) => sum + s.Allocatable);

    /// <summary>What <paramref name="node"/> has free now (negative when it is over-committed already).</summary>
    public Resources FreeOn(string node) => _nodes[node].Free;

    /// <summary>Whether <paramref name="free"/> has room for an executor of <paramref name="req"/>.</summary>
    public static bool Fits(Resources free, Resources req) => free.Covers(req);

    /// <summary>
    /// Takes room for one executor of <paramref name="req"/> running <paramref name="shim"/>: the node chosen, or null
    /// when none that runs it has room.
    /// </summary>
    public string? Place(Resources req, Shim shim = Shim.Host)
    {
        var mask = ShimMatch.Mask(shim);
        foreach (var failed in _failed)
            if (failed.Shim == mask && req.Covers(failed.Req))
                return null;
        // The best node usually fits; a scan further down happens only for shapes that the best node cannot take.
        foreach (var slot in _byFree)
        {
            if ((slot.Shims & mask) == 0 || !Fits(slot.Free, req))
                continue;
            _byFree.Remove(slot);
            slot.Free -= req;
            _byFree.Add(slot.Rescore());
            return slot.Name;
        }
        _failed.Add((req, mask));
        return null;
    }

    /// <summary>
    /// Whether releasing an executor of <paramref name="freed"/> on <paramref name="node"/> makes room for one of
    /// <paramref name="req"/> running <paramref name="shim"/>; if so that room is taken, so that two plans do not count
    /// on the same free space.
    /// </summary>
    public bool TakeInExchange(string node, Resources freed, Resources req, Shim shim)
    {
        if (!_nodes.TryGetValue(node, out var slot) || !ShimMatch.Runs(slot.Shims, shim) || !Fits(slot.Free + freed, req))
            return false;
        _byFree.Remove(slot);
        slot.Free = slot.Free + freed - req;
        _byFree.Add(slot.Rescore());
        return true;
    }

    private sealed class Slot(string name, Resources allocatable, Resources free, int shims)
    {
        public static readonly IComparer<Slot> MostFreeFirst = Comparer<Slot>.Create((a, b) =>
        {
            var c = b.Score.CompareTo(a.Score);
            return c != 0 ? c : string.CompareOrdinal(a.Name, b.Name);
        });

        public string Name { get; } = name;
        public Resources Allocatable { get; } = allocatable;
        public Resources Free { get; set; } = free;
        public int Shims { get; } = shims;
        public double Score { get; private set; }

        /// <summary>The free fraction of the scarcest resource the node has.</summary>
        public Slot Rescore()
        {
            var score = (double)Free.Cpu / Allocatable.Cpu;
            if (Allocatable.Memory != Resources.Unlimited && Allocatable.Memory > 0)
                score = Math.Min(score, (double)Free.Memory / Allocatable.Memory);
            if (Allocatable.Gpu > 0)
                score = Math.Min(score, (double)Free.Gpu / Allocatable.Gpu);
            Score = score;
            return this;
        }
    }
}
