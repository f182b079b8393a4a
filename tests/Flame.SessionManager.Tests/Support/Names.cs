namespace Flame.SessionManager.Tests.Support;

/// <summary>Unique names, since every test shares one cluster.</summary>
public static class Names
{
    /// <summary><paramref name="prefix"/> plus a random suffix: a valid application name or session id.</summary>
    public static string Unique(string prefix) => $"{prefix}-{Guid.NewGuid().ToString("N")[..10]}";
}
