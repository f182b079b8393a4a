using Grpc.Net.Client.Balancer;

namespace Flame.Client;

/// <summary>
/// The order in which a client of several gateways connects (the channel's <c>pick_first</c> takes the first that
/// answers), which can move on: grpc-dotnet spends one connect timeout on the whole list, so a first gateway that
/// takes connections too slowly used it up and the next gateway was never tried. Until a gateway has answered, a
/// connect failure puts the next gateway first, once for each gateway.
/// </summary>
internal sealed class GatewayOrder : ResolverFactory
{
    private readonly BalancerAddress[] _addresses;
    private readonly Lock _lock = new();
    private int _first;
    private int _moves;
    private Action<ResolverResult>? _listener;

    public GatewayOrder(IReadOnlyList<Uri> endpoints) =>
        _addresses = [.. endpoints.Select(u => new BalancerAddress(u.IdnHost, u.Port))];

    /// <summary>The scheme of the channel's address (<c>static:///…</c>), which this factory serves in place of grpc-dotnet's own.</summary>
    public override string Name => "static";

    /// <inheritdoc />
    public override Resolver Create(ResolverOptions options) => new OrderResolver(this);

    /// <summary>Puts the next gateway first; false once every gateway was first (each was tried), so the failure stands.</summary>
    public bool MoveOn()
    {
        Action<ResolverResult>? listener;
        ResolverResult result;
        lock (_lock)
        {
            if (_moves >= _addresses.Length - 1)
                return false;
            _moves++;
            _first = (_first + 1) % _addresses.Length;
            listener = _listener;
            result = Current();
        }
        listener?.Invoke(result);
        return true;
    }

    private ResolverResult Current() =>
        ResolverResult.ForResult([.. _addresses.Skip(_first), .. _addresses.Take(_first)]);

    private sealed class OrderResolver(GatewayOrder order) : Resolver
    {
        public override void Start(Action<ResolverResult> listener)
        {
            ResolverResult result;
            lock (order._lock)
            {
                order._listener = listener;
                result = order.Current();
            }
            listener(result);
        }
    }
}
