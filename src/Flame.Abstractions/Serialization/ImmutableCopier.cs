using Orleans.Serialization.Cloning;

namespace Flame.Serialization;

/// <summary>
/// The copier of a Flame.Model record: the record itself, never a copy. The records are immutable (init-only, and
/// their arrays are never changed after creation), as <c>[Immutable]</c> declared them when they lived here; Flame.Model
/// carries no Orleans attribute, so each surrogate's converter says it instead (a registered copier wins over the
/// surrogate codec's convert-copy-convert, and an optional copier lets generated code skip the call altogether).
/// </summary>
/// <typeparam name="T">The record type.</typeparam>
public abstract class ImmutableCopier<T> : IDeepCopier<T>, IOptionalDeepCopier where T : class
{
    /// <summary>Returns <paramref name="input"/>: it cannot change.</summary>
    public T? DeepCopy(T? input, CopyContext context) => input;

    /// <summary>Always true: generated copiers pass the reference on.</summary>
    public bool IsShallowCopyable() => true;
}
